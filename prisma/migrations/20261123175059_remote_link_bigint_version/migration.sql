-- AlterTable
ALTER TABLE "remote_link" ALTER COLUMN "applied_version" SET DATA TYPE BIGINT;
