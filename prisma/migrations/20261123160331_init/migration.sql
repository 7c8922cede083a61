-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "user_store_domain" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "user_store_domain_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "scim_user" (
    "id" UUID NOT NULL,
    "domain_id" UUID NOT NULL,
    "user_name" TEXT NOT NULL,
    "user_name_normalized" TEXT NOT NULL,
    "external_id" TEXT,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "display_name" TEXT,
    "nick_name" TEXT,
    "profile_url" TEXT,
    "title" TEXT,
    "user_type" TEXT,
    "preferred_language" TEXT,
    "locale" TEXT,
    "timezone" TEXT,
    "name_formatted" TEXT,
    "name_family_name" TEXT,
    "name_given_name" TEXT,
    "name_middle_name" TEXT,
    "name_honorific_prefix" TEXT,
    "name_honorific_suffix" TEXT,
    "employee_number" TEXT,
    "cost_center" TEXT,
    "organization" TEXT,
    "division" TEXT,
    "department" TEXT,
    "manager_id" TEXT,
    "manager_display_name" TEXT,
    "attributes" JSONB NOT NULL DEFAULT '{}',
    "password_hash" TEXT,
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "scim_user_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "scim_user_email" (
    "id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "value" TEXT NOT NULL,
    "value_normalized" TEXT NOT NULL,
    "type" TEXT,
    "primary" BOOLEAN NOT NULL DEFAULT false,
    "display" TEXT,
    "position" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "scim_user_email_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "scim_user_phone_number" (
    "id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "value" TEXT NOT NULL,
    "type" TEXT,
    "primary" BOOLEAN NOT NULL DEFAULT false,
    "display" TEXT,
    "position" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "scim_user_phone_number_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "scim_user_address" (
    "id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "type" TEXT,
    "primary" BOOLEAN NOT NULL DEFAULT false,
    "formatted" TEXT,
    "street_address" TEXT,
    "locality" TEXT,
    "region" TEXT,
    "postal_code" TEXT,
    "country" TEXT,
    "position" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "scim_user_address_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "scim_group" (
    "id" UUID NOT NULL,
    "domain_id" UUID NOT NULL,
    "display_name" TEXT NOT NULL,
    "display_name_normalized" TEXT NOT NULL,
    "external_id" TEXT,
    "attributes" JSONB NOT NULL DEFAULT '{}',
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "scim_group_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "scim_group_member" (
    "group_id" UUID NOT NULL,
    "member_id" UUID NOT NULL,
    "member_type" TEXT NOT NULL,
    "user_member_id" UUID,
    "group_member_id" UUID,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "scim_group_member_pkey" PRIMARY KEY ("group_id","member_id")
);

-- CreateTable
CREATE TABLE "application" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "is_resident" BOOLEAN NOT NULL DEFAULT false,
    "client_id" TEXT,
    "client_secret_hash" TEXT,
    "grant_types" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "scopes" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "inbound_domain_id" UUID,
    "proxy_mode" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "application_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "identity_provider" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "home_realm_id" TEXT,
    "alias" TEXT,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "federated_auth" JSONB,
    "jit" JSONB,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "identity_provider_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "outbound_connector" (
    "id" UUID NOT NULL,
    "idp_id" UUID NOT NULL,
    "type" TEXT NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "settings" JSONB NOT NULL DEFAULT '{}',
    "secrets_encrypted" TEXT,
    "password_provisioning" BOOLEAN NOT NULL DEFAULT false,
    "attribute_mapping" JSONB NOT NULL DEFAULT '{}',
    "retry" JSONB NOT NULL DEFAULT '{}',
    "quarantined_at" TIMESTAMP(3),
    "quarantine_reason" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "outbound_connector_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "outbound_link" (
    "id" UUID NOT NULL,
    "application_id" UUID NOT NULL,
    "connector_id" UUID NOT NULL,
    "blocking" BOOLEAN NOT NULL DEFAULT false,
    "rules_enabled" BOOLEAN NOT NULL DEFAULT false,
    "jit_enabled" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "outbound_link_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "remote_link" (
    "id" UUID NOT NULL,
    "connector_id" UUID NOT NULL,
    "resource_type" TEXT NOT NULL,
    "local_id" UUID NOT NULL,
    "remote_id" TEXT,
    "applied_version" INTEGER NOT NULL DEFAULT 0,
    "deleted_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "remote_link_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "provisioning_audit" (
    "id" UUID NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "event_id" TEXT NOT NULL,
    "workflow_id" TEXT NOT NULL,
    "connector_id" UUID,
    "resource_type" TEXT NOT NULL,
    "local_id" UUID NOT NULL,
    "user_name" TEXT,
    "operation" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 1,
    "remote_id" TEXT,
    "error" TEXT,
    "initiator" TEXT,

    CONSTRAINT "provisioning_audit_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "store_request" (
    "request_id" TEXT NOT NULL,
    "result" JSONB NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "store_request_pkey" PRIMARY KEY ("request_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "user_store_domain_name_key" ON "user_store_domain"("name");

-- CreateIndex
CREATE INDEX "scim_user_external_id_idx" ON "scim_user"("external_id");

-- CreateIndex
CREATE INDEX "scim_user_user_name_normalized_idx" ON "scim_user"("user_name_normalized");

-- CreateIndex
CREATE UNIQUE INDEX "scim_user_domain_id_user_name_normalized_key" ON "scim_user"("domain_id", "user_name_normalized");

-- CreateIndex
CREATE INDEX "scim_user_email_user_id_idx" ON "scim_user_email"("user_id");

-- CreateIndex
CREATE INDEX "scim_user_email_value_normalized_idx" ON "scim_user_email"("value_normalized");

-- CreateIndex
CREATE INDEX "scim_user_phone_number_user_id_idx" ON "scim_user_phone_number"("user_id");

-- CreateIndex
CREATE INDEX "scim_user_phone_number_value_idx" ON "scim_user_phone_number"("value");

-- CreateIndex
CREATE INDEX "scim_user_address_user_id_idx" ON "scim_user_address"("user_id");

-- CreateIndex
CREATE INDEX "scim_group_external_id_idx" ON "scim_group"("external_id");

-- CreateIndex
CREATE UNIQUE INDEX "scim_group_domain_id_display_name_normalized_key" ON "scim_group"("domain_id", "display_name_normalized");

-- CreateIndex
CREATE INDEX "scim_group_member_member_id_idx" ON "scim_group_member"("member_id");

-- CreateIndex
CREATE UNIQUE INDEX "application_name_key" ON "application"("name");

-- CreateIndex
CREATE UNIQUE INDEX "application_client_id_key" ON "application"("client_id");

-- CreateIndex
CREATE UNIQUE INDEX "identity_provider_name_key" ON "identity_provider"("name");

-- CreateIndex
CREATE UNIQUE INDEX "outbound_connector_idp_id_type_key" ON "outbound_connector"("idp_id", "type");

-- CreateIndex
CREATE UNIQUE INDEX "outbound_link_application_id_connector_id_key" ON "outbound_link"("application_id", "connector_id");

-- CreateIndex
CREATE INDEX "remote_link_connector_id_remote_id_idx" ON "remote_link"("connector_id", "remote_id");

-- CreateIndex
CREATE INDEX "remote_link_local_id_idx" ON "remote_link"("local_id");

-- CreateIndex
CREATE UNIQUE INDEX "remote_link_connector_id_resource_type_local_id_key" ON "remote_link"("connector_id", "resource_type", "local_id");

-- CreateIndex
CREATE INDEX "provisioning_audit_local_id_created_at_idx" ON "provisioning_audit"("local_id", "created_at");

-- CreateIndex
CREATE INDEX "provisioning_audit_connector_id_created_at_idx" ON "provisioning_audit"("connector_id", "created_at");

-- CreateIndex
CREATE INDEX "provisioning_audit_outcome_created_at_idx" ON "provisioning_audit"("outcome", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "provisioning_audit_event_id_connector_id_key" ON "provisioning_audit"("event_id", "connector_id");

-- AddForeignKey
ALTER TABLE "scim_user" ADD CONSTRAINT "scim_user_domain_id_fkey" FOREIGN KEY ("domain_id") REFERENCES "user_store_domain"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "scim_user_email" ADD CONSTRAINT "scim_user_email_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "scim_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "scim_user_phone_number" ADD CONSTRAINT "scim_user_phone_number_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "scim_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "scim_user_address" ADD CONSTRAINT "scim_user_address_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "scim_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "scim_group" ADD CONSTRAINT "scim_group_domain_id_fkey" FOREIGN KEY ("domain_id") REFERENCES "user_store_domain"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "scim_group_member" ADD CONSTRAINT "scim_group_member_group_id_fkey" FOREIGN KEY ("group_id") REFERENCES "scim_group"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "scim_group_member" ADD CONSTRAINT "scim_group_member_user_member_id_fkey" FOREIGN KEY ("user_member_id") REFERENCES "scim_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "scim_group_member" ADD CONSTRAINT "scim_group_member_group_member_id_fkey" FOREIGN KEY ("group_member_id") REFERENCES "scim_group"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "application" ADD CONSTRAINT "application_inbound_domain_id_fkey" FOREIGN KEY ("inbound_domain_id") REFERENCES "user_store_domain"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "outbound_connector" ADD CONSTRAINT "outbound_connector_idp_id_fkey" FOREIGN KEY ("idp_id") REFERENCES "identity_provider"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "outbound_link" ADD CONSTRAINT "outbound_link_application_id_fkey" FOREIGN KEY ("application_id") REFERENCES "application"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "outbound_link" ADD CONSTRAINT "outbound_link_connector_id_fkey" FOREIGN KEY ("connector_id") REFERENCES "outbound_connector"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "remote_link" ADD CONSTRAINT "remote_link_connector_id_fkey" FOREIGN KEY ("connector_id") REFERENCES "outbound_connector"("id") ON DELETE CASCADE ON UPDATE CASCADE;
