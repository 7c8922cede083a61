-- AlterTable
ALTER TABLE "application" ADD COLUMN     "restrict_to_inbound_domain" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "scim_user" ADD COLUMN     "password_changed_at" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "role" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "name_normalized" TEXT NOT NULL,
    "external_id" TEXT,
    "description" TEXT,
    "permissions" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "role_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "role_user" (
    "role_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "role_user_pkey" PRIMARY KEY ("role_id","user_id")
);

-- CreateTable
CREATE TABLE "role_group" (
    "role_id" UUID NOT NULL,
    "group_id" UUID NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "role_group_pkey" PRIMARY KEY ("role_id","group_id")
);

-- CreateTable
CREATE TABLE "identity_provider_provisioning_role" (
    "idp_id" UUID NOT NULL,
    "role_id" UUID NOT NULL,

    CONSTRAINT "identity_provider_provisioning_role_pkey" PRIMARY KEY ("idp_id","role_id")
);

-- CreateTable
CREATE TABLE "role_provisioning_pending" (
    "request_id" TEXT NOT NULL,
    "user_id" UUID NOT NULL,
    "role_id" UUID NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "role_provisioning_pending_pkey" PRIMARY KEY ("request_id","user_id","role_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "role_name_normalized_key" ON "role"("name_normalized");

-- CreateIndex
CREATE INDEX "role_created_at_id_idx" ON "role"("created_at", "id");

-- CreateIndex
CREATE INDEX "role_user_user_id_idx" ON "role_user"("user_id");

-- CreateIndex
CREATE INDEX "role_group_group_id_idx" ON "role_group"("group_id");

-- CreateIndex
CREATE INDEX "identity_provider_provisioning_role_role_id_idx" ON "identity_provider_provisioning_role"("role_id");

-- AddForeignKey
ALTER TABLE "role_user" ADD CONSTRAINT "role_user_role_id_fkey" FOREIGN KEY ("role_id") REFERENCES "role"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "role_user" ADD CONSTRAINT "role_user_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "scim_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "role_group" ADD CONSTRAINT "role_group_role_id_fkey" FOREIGN KEY ("role_id") REFERENCES "role"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "role_group" ADD CONSTRAINT "role_group_group_id_fkey" FOREIGN KEY ("group_id") REFERENCES "scim_group"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "identity_provider_provisioning_role" ADD CONSTRAINT "identity_provider_provisioning_role_idp_id_fkey" FOREIGN KEY ("idp_id") REFERENCES "identity_provider"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "identity_provider_provisioning_role" ADD CONSTRAINT "identity_provider_provisioning_role_role_id_fkey" FOREIGN KEY ("role_id") REFERENCES "role"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
