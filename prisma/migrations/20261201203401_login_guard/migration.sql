-- CreateTable
CREATE TABLE "login_throttle" (
    "key" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "account" TEXT,
    "address" TEXT,
    "failures" INTEGER NOT NULL,
    "window_started_at" TIMESTAMP(3) NOT NULL,
    "locked_until" TIMESTAMP(3),
    "lock_count" INTEGER NOT NULL,
    "version" INTEGER NOT NULL,
    "expires_at" TIMESTAMP(3) NOT NULL,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "login_throttle_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "security_event" (
    "id" UUID NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "type" TEXT NOT NULL,
    "kind" TEXT,
    "account" TEXT,
    "address" TEXT,
    "reason" TEXT NOT NULL,
    "locked_until" TIMESTAMP(3),
    "actor" TEXT NOT NULL,

    CONSTRAINT "security_event_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "login_throttle_expires_at_idx" ON "login_throttle"("expires_at");

-- CreateIndex
CREATE INDEX "login_throttle_address_idx" ON "login_throttle"("address");

-- CreateIndex
CREATE INDEX "login_throttle_locked_until_idx" ON "login_throttle"("locked_until");

-- CreateIndex
CREATE INDEX "security_event_created_at_idx" ON "security_event"("created_at");

-- CreateIndex
CREATE INDEX "security_event_account_created_at_idx" ON "security_event"("account", "created_at");

-- CreateIndex
CREATE INDEX "security_event_address_created_at_idx" ON "security_event"("address", "created_at");
