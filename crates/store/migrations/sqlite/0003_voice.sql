-- Telephony (the `voice` crate): post-call survey answers, IVR node visits
-- and one row per telephone call.

-- One answer to one survey question (DTMF 1-5).
CREATE TABLE survey_answers (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    contact_id INTEGER NOT NULL,
    agent_id   INTEGER,
    queue_id   INTEGER,
    caller     TEXT,
    question   TEXT    NOT NULL,
    score      INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    at         INTEGER NOT NULL
);
CREATE INDEX survey_answers_at ON survey_answers (at);
CREATE INDEX survey_answers_agent ON survey_answers (agent_id, at);
CREATE INDEX survey_answers_queue ON survey_answers (queue_id, at);

-- Anti-fatigue: when each caller was last offered (or answered) a survey.
CREATE TABLE survey_offers (
    caller  TEXT    PRIMARY KEY,
    last_at INTEGER NOT NULL
);

-- One visit of a call to one IVR node.
CREATE TABLE ivr_visits (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id    TEXT    NOT NULL,
    flow       TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    node       TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    entered_at INTEGER NOT NULL,
    left_at    INTEGER,
    outcome    TEXT    NOT NULL
);
CREATE INDEX ivr_visits_flow ON ivr_visits (flow, entered_at);
CREATE INDEX ivr_visits_call ON ivr_visits (call_id);

-- One row per telephone call (call log, recordings, quality).
CREATE TABLE calls (
    call_id      TEXT    PRIMARY KEY,
    contact_id   INTEGER,
    direction    TEXT    NOT NULL,
    caller       TEXT    NOT NULL,
    callee       TEXT    NOT NULL,
    started_at   INTEGER NOT NULL,
    answered_at  INTEGER,
    ended_at     INTEGER,
    end_reason   TEXT,
    agent_id     INTEGER,
    recording    TEXT,
    recording_ms INTEGER,
    quality      TEXT,
    voicemail    TEXT
);
CREATE INDEX calls_started ON calls (started_at DESC, call_id DESC);
CREATE INDEX calls_contact ON calls (contact_id, started_at);
