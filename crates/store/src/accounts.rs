//! Users and teams: schema and CRUD. Password hashing, sessions and the
//! lock-out policy belong to the server; the store keeps the hash text, the
//! failed-login counter and the lock time.

use crate::AccountStore;
use crate::db::{DbRow, Store, now, to_i64, with_db};
use crate::error::{Result, StoreError};
use engine::{AgentId, Time};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a user may do (R-SEC-3). Stored as its lower-case name.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Handles contacts.
    Agent,
    /// Watches queues and agents, manages a team.
    Supervisor,
    /// Quality assurance: reviews contacts.
    Qa,
    /// Workforce planner: forecasts and schedules.
    Planner,
    /// Configures everything.
    Admin,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 5] = [Role::Agent, Role::Supervisor, Role::Qa, Role::Planner, Role::Admin];

    /// Stable lower-case name (`agent`, `supervisor`, `qa`, `planner`, `admin`).
    pub fn name(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::Qa => "qa",
            Role::Planner => "planner",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Role {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| StoreError::Invalid(format!("unknown role {s:?} (agent, supervisor, qa, planner, admin)")))
    }
}

/// A team of users.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    /// Database id.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// When it was created (ms since the epoch).
    pub created_at: Time,
    /// When it was last changed.
    pub updated_at: Time,
}

/// A user account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Database id.
    pub id: i64,
    /// Login name: unique, stored in lower case.
    pub login: String,
    /// Name shown in the UI.
    pub display_name: String,
    /// Password hash (PHC string, e.g. Argon2); the store never sees passwords.
    pub password_hash: String,
    /// Role.
    pub role: Role,
    /// Team, if any.
    pub team_id: Option<i64>,
    /// The engine agent this user works as (unique), if any.
    pub agent_id: Option<AgentId>,
    /// Consecutive failed logins.
    pub failed_logins: u32,
    /// Logins are refused until this time, if set.
    pub locked_until: Option<Time>,
    /// When it was created (ms since the epoch).
    pub created_at: Time,
    /// When it was last changed.
    pub updated_at: Time,
}

/// What is needed to create a user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUser {
    /// Login name (trimmed and lower-cased; no white space; 1–64 characters).
    pub login: String,
    /// Name shown in the UI.
    pub display_name: String,
    /// Password hash.
    pub password_hash: String,
    /// Role.
    pub role: Role,
    /// Team.
    pub team_id: Option<i64>,
    /// Engine agent.
    pub agent_id: Option<AgentId>,
}

pub(crate) fn normalise_login(login: &str) -> Result<String> {
    let l = login.trim().to_lowercase();
    if l.is_empty() || l.chars().count() > 64 || l.chars().any(char::is_whitespace) {
        return Err(StoreError::Invalid(format!("login {login:?}: 1–64 characters without spaces")));
    }
    Ok(l)
}

fn check_name(what: &str, name: &str) -> Result<String> {
    let n = name.trim();
    if n.is_empty() {
        return Err(StoreError::Invalid(format!("{what} must not be empty")));
    }
    Ok(n.to_string())
}

const USER_COLUMNS: &str = "id, login, display_name, password_hash, role, team_id, agent_id, failed_logins, \
     locked_until, created_at, updated_at";

fn user_from_row(r: &impl DbRow) -> Result<User> {
    let failed = r.int("failed_logins")?;
    Ok(User {
        id: r.int("id")?,
        login: r.text("login")?,
        display_name: r.text("display_name")?,
        password_hash: r.text("password_hash")?,
        role: r.text("role")?.parse().map_err(|e: StoreError| StoreError::Corrupt(e.to_string()))?,
        team_id: r.opt_int("team_id")?,
        agent_id: r
            .opt_int("agent_id")?
            .map(|a| u32::try_from(a).map(AgentId).map_err(|_| StoreError::Corrupt(format!("agent id {a}"))))
            .transpose()?,
        failed_logins: u32::try_from(failed).unwrap_or(u32::MAX),
        locked_until: r.opt_time("locked_until")?,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
    })
}

fn team_from_row(r: &impl DbRow) -> Result<Team> {
    Ok(Team {
        id: r.int("id")?,
        name: r.text("name")?,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
    })
}

impl AccountStore for Store {
    async fn create_team(&self, name: &str) -> Result<Team> {
        let name = check_name("team name", name)?;
        let at = to_i64(now().0, "time")?;
        with_db!(&self.db, pool => {
            let row = sqlx::query(
                "INSERT INTO teams (name, created_at, updated_at) VALUES ($1, $2, $2) \
                 RETURNING id, name, created_at, updated_at",
            )
            .bind(&name)
            .bind(at)
            .fetch_one(pool)
            .await
            .map_err(|e| StoreError::from_write(e, || format!("team {name:?}")))?;
            team_from_row(&row)
        })
    }

    async fn team(&self, id: i64) -> Result<Option<Team>> {
        with_db!(&self.db, pool => {
            let row = sqlx::query("SELECT id, name, created_at, updated_at FROM teams WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?;
            row.map(|r| team_from_row(&r)).transpose()
        })
    }

    async fn teams(&self) -> Result<Vec<Team>> {
        with_db!(&self.db, pool => {
            let rows = sqlx::query("SELECT id, name, created_at, updated_at FROM teams ORDER BY name").fetch_all(pool).await?;
            rows.iter().map(team_from_row).collect()
        })
    }

    async fn rename_team(&self, id: i64, name: &str) -> Result<Team> {
        let name = check_name("team name", name)?;
        let at = to_i64(now().0, "time")?;
        with_db!(&self.db, pool => {
            let row = sqlx::query(
                "UPDATE teams SET name = $1, updated_at = $2 WHERE id = $3 RETURNING id, name, created_at, updated_at",
            )
            .bind(&name)
            .bind(at)
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(|e| StoreError::from_write(e, || format!("team {name:?}")))?;
            match row {
                Some(r) => team_from_row(&r),
                None => Err(StoreError::not_found(format!("team {id}"))),
            }
        })
    }

    async fn delete_team(&self, id: i64) -> Result<bool> {
        with_db!(&self.db, pool => {
            let r = sqlx::query("DELETE FROM teams WHERE id = $1").bind(id).execute(pool).await?;
            Ok(r.rows_affected() > 0)
        })
    }

    async fn create_user(&self, user: &NewUser) -> Result<User> {
        let login = normalise_login(&user.login)?;
        let display = check_name("display name", &user.display_name)?;
        let at = to_i64(now().0, "time")?;
        let sql = format!(
            "INSERT INTO users (login, display_name, password_hash, role, team_id, agent_id, failed_logins, \
             locked_until, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 0, NULL, $7, $7) RETURNING {USER_COLUMNS}"
        );
        with_db!(&self.db, pool => {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(&login)
                .bind(&display)
                .bind(&user.password_hash)
                .bind(user.role.name())
                .bind(user.team_id)
                .bind(user.agent_id.map(|a| i64::from(a.0)))
                .bind(at)
                .fetch_one(pool)
                .await
                .map_err(|e| StoreError::from_write(e, || format!("user {login:?} (or its agent link)")))?;
            user_from_row(&row)
        })
    }

    async fn user(&self, id: i64) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        with_db!(&self.db, pool => {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?;
            row.map(|r| user_from_row(&r)).transpose()
        })
    }

    async fn user_by_login(&self, login: &str) -> Result<Option<User>> {
        let login = login.trim().to_lowercase();
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE login = $1");
        with_db!(&self.db, pool => {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&login).fetch_optional(pool).await?;
            row.map(|r| user_from_row(&r)).transpose()
        })
    }

    async fn users(&self, team_id: Option<i64>) -> Result<Vec<User>> {
        let sql = match team_id {
            Some(_) => format!("SELECT {USER_COLUMNS} FROM users WHERE team_id = $1 ORDER BY login"),
            None => format!("SELECT {USER_COLUMNS} FROM users ORDER BY login"),
        };
        with_db!(&self.db, pool => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            if let Some(t) = team_id {
                q = q.bind(t);
            }
            let rows = q.fetch_all(pool).await?;
            rows.iter().map(user_from_row).collect()
        })
    }

    async fn update_user(&self, user: &User) -> Result<User> {
        let login = normalise_login(&user.login)?;
        let display = check_name("display name", &user.display_name)?;
        let at = to_i64(now().0, "time")?;
        let locked = user.locked_until.map(|t| to_i64(t.0, "time")).transpose()?;
        let sql = format!(
            "UPDATE users SET login = $1, display_name = $2, password_hash = $3, role = $4, team_id = $5, \
             agent_id = $6, failed_logins = $7, locked_until = $8, updated_at = $9 WHERE id = $10 RETURNING {USER_COLUMNS}"
        );
        with_db!(&self.db, pool => {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(&login)
                .bind(&display)
                .bind(&user.password_hash)
                .bind(user.role.name())
                .bind(user.team_id)
                .bind(user.agent_id.map(|a| i64::from(a.0)))
                .bind(i64::from(user.failed_logins))
                .bind(locked)
                .bind(at)
                .bind(user.id)
                .fetch_optional(pool)
                .await
                .map_err(|e| StoreError::from_write(e, || format!("user {login:?} (or its agent link)")))?;
            match row {
                Some(r) => user_from_row(&r),
                None => Err(StoreError::not_found(format!("user {}", user.id))),
            }
        })
    }

    async fn delete_user(&self, id: i64) -> Result<bool> {
        with_db!(&self.db, pool => {
            let r = sqlx::query("DELETE FROM users WHERE id = $1").bind(id).execute(pool).await?;
            Ok(r.rows_affected() > 0)
        })
    }

    async fn record_login_failure(&self, id: i64, lock_until: Option<Time>) -> Result<User> {
        let at = to_i64(now().0, "time")?;
        let locked = lock_until.map(|t| to_i64(t.0, "time")).transpose()?;
        let sql = format!(
            "UPDATE users SET failed_logins = failed_logins + 1, locked_until = COALESCE($1, locked_until), \
             updated_at = $2 WHERE id = $3 RETURNING {USER_COLUMNS}"
        );
        with_db!(&self.db, pool => {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(locked).bind(at).bind(id).fetch_optional(pool).await?;
            match row {
                Some(r) => user_from_row(&r),
                None => Err(StoreError::not_found(format!("user {id}"))),
            }
        })
    }

    async fn clear_login_failures(&self, id: i64) -> Result<User> {
        let at = to_i64(now().0, "time")?;
        let sql = format!(
            "UPDATE users SET failed_logins = 0, locked_until = NULL, updated_at = $1 WHERE id = $2 RETURNING {USER_COLUMNS}"
        );
        with_db!(&self.db, pool => {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(at).bind(id).fetch_optional(pool).await?;
            match row {
                Some(r) => user_from_row(&r),
                None => Err(StoreError::not_found(format!("user {id}"))),
            }
        })
    }
}
