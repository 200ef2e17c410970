-- Login sessions: the server keeps only a hash of each token.
CREATE TABLE sessions (
    token_hash TEXT   PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Named JSON documents the server owns (its own settings: wrap-up codes,
-- not-ready reasons, business hours, hooks).
CREATE TABLE documents (
    name       TEXT   PRIMARY KEY,
    data       JSONB  NOT NULL,
    updated_at BIGINT NOT NULL
);
