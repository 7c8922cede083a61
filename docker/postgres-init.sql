-- Temporal's auto-setup creates its own databases; this only makes sure the role may.
ALTER ROLE provisioning CREATEDB;
