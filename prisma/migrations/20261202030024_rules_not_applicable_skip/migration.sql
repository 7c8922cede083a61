-- NotApplicable on an Enable Rules link defaults to what WSO2 does: skip (its provisioning rule handler compares the
-- decision with "Not Applicable", which Balana never writes, so only Permit provisions; docs/rules.md).
-- AlterTable
ALTER TABLE "outbound_link" ALTER COLUMN "rules_not_applicable" SET DEFAULT 'skip';

-- The links that have the column took the previous migration's default, never an operator's choice (the setting was
-- not yet in a release): they get the new default too.
UPDATE "outbound_link" SET "rules_not_applicable" = 'skip';
