-- The signer's drawn signature on a receipt: a PNG uploaded into the load's evidence like a photo
-- (content-addressed, chained), named here by its sha256 so that the proof of delivery can print it.
-- Receipts confirmed before this migration have none (NULL); new ones from the pages always do.
ALTER TABLE receipts ADD COLUMN signature_sha256 text CHECK (signature_sha256 ~ '^[0-9a-f]{64}$');
