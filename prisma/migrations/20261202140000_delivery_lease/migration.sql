-- One delivery at a time per (connector, resource): OutboundFanOut's per-resource queue and the batches of a Bulk
-- load (OutboundBatch) both take this lease before reading and writing the remote link (activities/outbound.ts).
-- CreateTable
CREATE TABLE "delivery_lease" (
    "connector_id" UUID NOT NULL,
    "resource_type" TEXT NOT NULL,
    "local_id" UUID NOT NULL,
    "holder" TEXT NOT NULL,
    "expires_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "delivery_lease_pkey" PRIMARY KEY ("connector_id","resource_type","local_id")
);

-- AddForeignKey
ALTER TABLE "delivery_lease" ADD CONSTRAINT "delivery_lease_connector_id_fkey" FOREIGN KEY ("connector_id") REFERENCES "outbound_connector"("id") ON DELETE CASCADE ON UPDATE CASCADE;
