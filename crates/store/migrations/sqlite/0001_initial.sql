-- Switchboard store, SQLite schema. Times are milliseconds since the Unix
-- epoch (INTEGER); JSON is TEXT. Keep in step with ../postgres.

-- The event log. seq is the rowid: appends go to the end of the B-tree.
CREATE TABLE events (
    seq     INTEGER PRIMARY KEY,
    v       INTEGER NOT NULL,
    at      INTEGER NOT NULL,
    kind    TEXT    NOT NULL,
    contact INTEGER,
    agent   INTEGER,
    payload TEXT    NOT NULL
);
CREATE INDEX events_contact ON events (contact, seq) WHERE contact IS NOT NULL;
CREATE INDEX events_agent ON events (agent, seq) WHERE agent IS NOT NULL;
CREATE INDEX events_at ON events (at);

-- Engine configuration.
CREATE TABLE settings (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    data       TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE queues (
    id         INTEGER PRIMARY KEY,
    config     TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE agents (
    id         INTEGER PRIMARY KEY,
    config     TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE snapshots (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    seq      INTEGER NOT NULL,
    data     TEXT    NOT NULL,
    saved_at INTEGER NOT NULL
);

-- Accounts.
CREATE TABLE teams (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    login         TEXT    NOT NULL UNIQUE,
    display_name  TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('agent', 'supervisor', 'qa', 'planner', 'admin')),
    team_id       INTEGER REFERENCES teams (id) ON DELETE SET NULL,
    agent_id      INTEGER UNIQUE,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until  INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX users_team ON users (team_id);

-- Customers (R-CRM-1). phones/emails are JSON arrays; customer_phones
-- indexes the normalised numbers for the lookup on arrival.
CREATE TABLE customers (
    id         TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL,
    phones     TEXT    NOT NULL DEFAULT '[]',
    emails     TEXT    NOT NULL DEFAULT '[]',
    segment    TEXT    NOT NULL CHECK (segment IN ('new', 'returning', 'vip')),
    attributes TEXT    NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE customer_phones (
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    phone       TEXT NOT NULL,
    PRIMARY KEY (customer_id, phone)
);
CREATE INDEX customer_phones_phone ON customer_phones (phone);

-- One row per engine contact, with its wrap-up.
CREATE TABLE contact_records (
    contact_id       INTEGER PRIMARY KEY,
    customer_id      TEXT    REFERENCES customers (id) ON DELETE SET NULL,
    queue_id         INTEGER NOT NULL,
    agent_id         INTEGER,
    channel          TEXT    NOT NULL,
    arrived_at       INTEGER NOT NULL,
    answered_at      INTEGER,
    ended_at         INTEGER,
    outcome          TEXT,
    wrap_need        TEXT,
    wrap_service     TEXT,
    wrap_disposition TEXT,
    wrap_notes       TEXT,
    wrap_follow_up   BOOLEAN NOT NULL DEFAULT 0,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX contact_records_customer ON contact_records (customer_id, arrived_at DESC, contact_id DESC);
CREATE INDEX contact_records_agent ON contact_records (agent_id, arrived_at);

-- Audit log (R-SEC-5).
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    record_type TEXT    NOT NULL,
    record_id   TEXT    NOT NULL,
    detail      TEXT
);
CREATE INDEX audit_log_record ON audit_log (record_type, record_id, id);
CREATE INDEX audit_log_actor ON audit_log (actor, id);
CREATE INDEX audit_log_at ON audit_log (at);
