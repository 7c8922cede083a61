-- pg_trgm serves SCIM co/sw/ew filters from GIN indexes. It is a trusted extension (PostgreSQL 13+): the
-- database owner may create it without superuser rights.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- AlterTable
ALTER TABLE "application" DROP COLUMN "client_secret_hash",
ADD COLUMN     "client_secret_encrypted" TEXT;

-- CreateTable
CREATE TABLE "oauth_payload" (
    "id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "grant_id" TEXT,
    "user_code" TEXT,
    "uid" TEXT,
    "expires_at" TIMESTAMP(3),
    "consumed_at" TIMESTAMP(3),

    CONSTRAINT "oauth_payload_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "scim_schema_extension" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "resource_type" TEXT NOT NULL,
    "required" BOOLEAN NOT NULL DEFAULT false,
    "attributes" JSONB NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "scim_schema_extension_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "oauth_payload_grant_id_idx" ON "oauth_payload"("grant_id");

-- CreateIndex
CREATE INDEX "oauth_payload_uid_idx" ON "oauth_payload"("uid");

-- CreateIndex
CREATE INDEX "oauth_payload_user_code_idx" ON "oauth_payload"("user_code");

-- CreateIndex
CREATE INDEX "oauth_payload_expires_at_idx" ON "oauth_payload"("expires_at");

-- CreateIndex
CREATE INDEX "scim_group_created_at_id_idx" ON "scim_group"("created_at", "id");

-- CreateIndex
CREATE INDEX "scim_user_user_name_trgm_idx" ON "scim_user" USING GIN ("user_name_normalized" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "scim_user_created_at_id_idx" ON "scim_user"("created_at", "id");

-- CreateIndex
CREATE INDEX "scim_user_email_value_trgm_idx" ON "scim_user_email" USING GIN ("value_normalized" gin_trgm_ops);
