-- AlterTable
ALTER TABLE "application" ADD COLUMN     "login_method" JSONB,
ADD COLUMN     "post_logout_redirect_uris" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "public_client" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "redirect_uris" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "response_types" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "skip_consent" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "scim_user" ADD COLUMN     "email_verified" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "federated_link" (
    "id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "idp_id" UUID NOT NULL,
    "issuer" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "linked_by" TEXT NOT NULL,
    "asserted_group_ids" UUID[] DEFAULT ARRAY[]::UUID[],
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_login_at" TIMESTAMP(3),

    CONSTRAINT "federated_link_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "federation_request" (
    "id" TEXT NOT NULL,
    "interaction_uid" TEXT NOT NULL,
    "idp_id" UUID NOT NULL,
    "sealed" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMP(3) NOT NULL,
    "consumed_at" TIMESTAMP(3),

    CONSTRAINT "federation_request_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "federated_link_user_id_idx" ON "federated_link"("user_id");

-- CreateIndex
CREATE UNIQUE INDEX "federated_link_idp_id_issuer_subject_key" ON "federated_link"("idp_id", "issuer", "subject");

-- CreateIndex
CREATE INDEX "federation_request_expires_at_idx" ON "federation_request"("expires_at");

-- AddForeignKey
ALTER TABLE "federated_link" ADD CONSTRAINT "federated_link_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "scim_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "federated_link" ADD CONSTRAINT "federated_link_idp_id_fkey" FOREIGN KEY ("idp_id") REFERENCES "identity_provider"("id") ON DELETE CASCADE ON UPDATE CASCADE;
-- CreateIndex
CREATE INDEX "federation_request_interaction_uid_idx" ON "federation_request"("interaction_uid");

-- CreateTable
CREATE TABLE "oauth_consent" (
    "user_id" UUID NOT NULL,
    "application_id" UUID NOT NULL,
    "scopes" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "claims" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "oauth_consent_pkey" PRIMARY KEY ("user_id","application_id")
);

-- CreateIndex
CREATE INDEX "oauth_consent_application_id_idx" ON "oauth_consent"("application_id");

-- AddForeignKey
ALTER TABLE "oauth_consent" ADD CONSTRAINT "oauth_consent_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "scim_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "oauth_consent" ADD CONSTRAINT "oauth_consent_application_id_fkey" FOREIGN KEY ("application_id") REFERENCES "application"("id") ON DELETE CASCADE ON UPDATE CASCADE;
