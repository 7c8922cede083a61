-- AlterTable
ALTER TABLE "scim_user" ALTER COLUMN "active" DROP NOT NULL;
