-- Callbacks dialled for a contact: how many attempts so far and how the
-- last one went (busy, no-answer, failed, connected), for its history.
ALTER TABLE contact_records ADD COLUMN dial_attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE contact_records ADD COLUMN dial_outcome TEXT;
