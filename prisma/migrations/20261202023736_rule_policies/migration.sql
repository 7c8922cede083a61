-- AlterTable
ALTER TABLE "outbound_link" ADD COLUMN     "rules_not_applicable" TEXT NOT NULL DEFAULT 'provision';

-- AlterTable
ALTER TABLE "provisioning_audit" ADD COLUMN     "decided_by" TEXT,
ADD COLUMN     "decision" TEXT,
ADD COLUMN     "decision_reason" TEXT;

-- CreateTable
CREATE TABLE "rule_policy" (
    "id" UUID NOT NULL,
    "policy_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "profile" TEXT NOT NULL DEFAULT 'clean',
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "current_version" INTEGER NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "rule_policy_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rule_policy_version" (
    "id" UUID NOT NULL,
    "policy_row_id" UUID NOT NULL,
    "number" INTEGER NOT NULL,
    "version" TEXT NOT NULL,
    "xml" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" TEXT NOT NULL,

    CONSTRAINT "rule_policy_version_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rule_setting" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "root_combining_algorithm" TEXT NOT NULL,
    "revision" BIGINT NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "rule_setting_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "rule_policy_policy_id_key" ON "rule_policy"("policy_id");

-- CreateIndex
CREATE UNIQUE INDEX "rule_policy_version_policy_row_id_number_key" ON "rule_policy_version"("policy_row_id", "number");

-- AddForeignKey
ALTER TABLE "rule_policy_version" ADD CONSTRAINT "rule_policy_version_policy_row_id_fkey" FOREIGN KEY ("policy_row_id") REFERENCES "rule_policy"("id") ON DELETE CASCADE ON UPDATE CASCADE;
