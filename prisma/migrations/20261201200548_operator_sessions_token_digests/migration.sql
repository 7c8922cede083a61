-- CreateTable
CREATE TABLE "operator_session" (
    "id" TEXT NOT NULL,
    "username" TEXT NOT NULL,
    "address" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "operator_session_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "operator_session_expires_at_idx" ON "operator_session"("expires_at");

-- OAuth tokens, grants and sessions are now stored under keyed digests of their ids, never the ids themselves
-- (src/http/oauth/adapter.ts). Rows written before kept the token in clear: they are removed, so clients get new
-- tokens (access tokens live an hour by default). The server's own keys (kind 'jwks') stay.
DELETE FROM "oauth_payload" WHERE "kind" <> 'jwks';
