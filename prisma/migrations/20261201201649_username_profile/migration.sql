-- CreateTable
CREATE TABLE "username_conflict" (
    "user_id" UUID NOT NULL,
    "domain_id" UUID NOT NULL,
    "reason" TEXT NOT NULL,
    "wanted_key" TEXT,
    "detail" TEXT NOT NULL,
    "profile_version" INTEGER NOT NULL,
    "detected_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "username_conflict_pkey" PRIMARY KEY ("user_id")
);

-- CreateTable
CREATE TABLE "data_migration" (
    "name" TEXT NOT NULL,
    "applied_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "summary" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "data_migration_pkey" PRIMARY KEY ("name")
);

-- CreateIndex
CREATE INDEX "username_conflict_domain_id_wanted_key_idx" ON "username_conflict"("domain_id", "wanted_key");

-- AddForeignKey
ALTER TABLE "username_conflict" ADD CONSTRAINT "username_conflict_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "scim_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;
