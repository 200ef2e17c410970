//! The telephony reports over stored records: the survey with each
//! question's text (JSON and CSV) and the IVR's per-node statistics per
//! interval, against a known set of answers and node visits.

use crate::harness::start;
use serde_json::{Value, json};
use std::sync::Arc;
use store::{IvrVisit, SurveyAnswer, VoiceStore};
use web::telephony::{BoxFuture, Refusal, Telephony};

/// Telephony as far as the reports need it: the configured questions.
struct Questions;

impl Telephony for Questions {
    fn status(&self) -> Value {
        json!({})
    }
    fn settings(&self) -> Value {
        json!({})
    }
    fn set_settings(&self, _: Value) -> BoxFuture<'_, Result<(), Refusal>> {
        Box::pin(async { Err(Refusal::Failed("not here".into())) })
    }
    fn flows(&self) -> Value {
        json!([])
    }
    fn flow(&self, _: &str, _: Option<u32>) -> Option<Value> {
        None
    }
    fn save_flow(&self, _: String, _: Value) -> BoxFuture<'_, Result<u32, Refusal>> {
        Box::pin(async { Err(Refusal::Failed("not here".into())) })
    }
    fn survey_questions(&self) -> Value {
        // `solved` has no English text: English falls back to its id.
        json!({ "agent": { "zh": "您满意吗？", "en": "Were you satisfied?" }, "solved": { "zh": "解决了吗？" } })
    }
}

// 2026-03-02 09:00 UTC, on the hour.
const T0: i64 = 1_772_442_000_000;
const MIN: i64 = 60_000;

fn answer(contact: u64, agent: u32, question: &str, score: u8, at: i64) -> SurveyAnswer {
    SurveyAnswer {
        contact,
        agent: Some(agent),
        queue: Some(0),
        caller: Some(format!("+86138000{contact:05}")),
        question: question.into(),
        score,
        at,
    }
}

#[tokio::test]
async fn survey_report_names_questions_in_the_language_asked() {
    let s = start().await;
    s.app.set_telephony(Arc::new(Questions));
    let admin = s.login("admin").await;
    s.app
        .store
        .add_survey_answers(&[
            answer(1, 0, "agent", 5, T0),
            answer(2, 0, "agent", 4, T0 + MIN),
            answer(3, 0, "agent", 1, T0 + 2 * MIN),
            answer(1, 0, "solved", 1, T0),
            // A question since deleted from the settings: shown by its id.
            answer(4, 1, "recommend", 3, T0 + 3 * MIN),
        ])
        .await
        .unwrap();
    let range = format!("since={T0}&until={}", T0 + 60 * MIN);

    let en = s.get(&format!("/api/reports/surveys?{range}&lang=en"), &admin).await;
    let rows: Vec<(u64, &str, &str, u64, f64, Value)> = en
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["agent"].as_u64().unwrap(),
                r["question"].as_str().unwrap(),
                r["question_text"].as_str().unwrap(),
                r["count"].as_u64().unwrap(),
                r["mean"].as_f64().unwrap(),
                r["scores"].clone(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (0, "agent", "Were you satisfied?", 3, 10.0 / 3.0, json!([1, 0, 0, 1, 1])),
            (0, "solved", "solved", 1, 1.0, json!([1, 0, 0, 0, 0])),
            (1, "recommend", "recommend", 1, 3.0, json!([0, 0, 1, 0, 0])),
        ]
    );
    assert_eq!(en[0]["queue"], 0, "existing fields are kept");

    // Chinese is the default.
    let zh = s.get(&format!("/api/reports/surveys?{range}"), &admin).await;
    assert_eq!(zh[0]["question_text"], "您满意吗？");
    assert_eq!(zh[1]["question_text"], "解决了吗？");

    let resp = s
        .client
        .get(format!("{}/api/reports/surveys?{range}&lang=en&format=csv&agent=0", s.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let body = resp.text().await.unwrap();
    let mut lines = body.lines();
    assert_eq!(
        lines.next(),
        Some(
            "agent,agent_name,queue,queue_name,question,question_text,count,mean,score_1,score_2,score_3,score_4,score_5"
        )
    );
    let agent = lines.next().unwrap();
    assert!(agent.starts_with("0,"), "{agent}");
    assert!(agent.ends_with(",agent,Were you satisfied?,3,3.3333,1,0,0,1,1"), "{agent}");
    assert!(lines.next().unwrap().ends_with(",solved,solved,1,1.0000,1,0,0,0,0"));
    assert_eq!(lines.next(), None, "only agent 0");

    // A language the reports do not speak.
    let (status, bad) = s.call(reqwest::Method::GET, "/api/reports/surveys?lang=fr", Some(&admin), None).await;
    assert_eq!(status, 400, "{bad}");
}

fn visit(call: &str, node: &str, entered: i64, left: Option<i64>, outcome: &str) -> IvrVisit {
    IvrVisit {
        call: call.into(),
        flow: "main".into(),
        version: 1,
        node: node.into(),
        kind: if node == "menu" { "menu".into() } else { "play".into() },
        entered_at: T0 + entered,
        left_at: left.map(|l| T0 + l),
        outcome: outcome.into(),
    }
}

#[tokio::test]
async fn ivr_statistics_per_interval_as_json_and_csv() {
    let s = start().await;
    let admin = s.login("supervisor").await;
    // A morning's menu: three callers in the first quarter-hour, two after
    // 09:15 (one drops out in the menu), one after 10:00.
    let visits = vec![
        visit("a", "welcome", 0, Some(4_000), "next"),
        visit("a", "menu", 4_000, Some(9_000), "chose:1"),
        visit("b", "welcome", 5 * MIN, Some(5 * MIN + 4_000), "next"),
        visit("b", "menu", 5 * MIN + 4_000, Some(5 * MIN + 20_000), "timeout"),
        visit("b", "menu", 5 * MIN + 20_000, Some(5 * MIN + 27_000), "chose:2"),
        visit("c", "welcome", 14 * MIN + 59_000, Some(15 * MIN + 3_000), "next"),
        visit("c", "menu", 15 * MIN + 3_000, Some(15 * MIN + 30_000), "dropped"),
        visit("d", "welcome", 20 * MIN, Some(20 * MIN + 4_000), "next"),
        visit("d", "menu", 20 * MIN + 4_000, None, "dropped"),
        visit("e", "welcome", 61 * MIN, Some(61 * MIN + 1_000), "dropped"),
        // Another flow, and a visit outside the period: not counted.
        IvrVisit { flow: "night".into(), ..visit("f", "menu", 0, Some(1_000), "chose:1") },
        visit("g", "welcome", 120 * MIN, Some(120 * MIN + 4_000), "next"),
    ];
    s.app.store.add_ivr_visits(&visits).await.unwrap();
    let q = format!("from={T0}&to={}", T0 + 120 * MIN);

    let rows = s.get(&format!("/api/reports/ivr/main/intervals?{q}&interval=15"), &admin).await;
    let got: Vec<(i64, &str, u64, u64, u64, i64)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                (r["start"].as_i64().unwrap() - T0) / MIN,
                r["node"].as_str().unwrap(),
                r["entered"].as_u64().unwrap(),
                r["dropped"].as_u64().unwrap(),
                r["timed"].as_u64().unwrap(),
                r["total_ms"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (0, "menu", 3, 0, 3, 5_000 + 16_000 + 7_000),
            (0, "welcome", 3, 0, 3, 12_000),
            (15, "menu", 2, 2, 1, 27_000),
            (15, "welcome", 1, 0, 1, 4_000),
            (60, "welcome", 1, 1, 1, 1_000),
        ]
    );
    assert_eq!(rows[0]["end"].as_i64().unwrap(), T0 + 15 * MIN);
    assert_eq!(rows[0]["outcomes"], json!({ "chose:1": 1, "chose:2": 1, "timeout": 1 }));

    // Hourly, as CSV: the exact file.
    let resp = s
        .client
        .get(format!("{}/api/reports/ivr/main/intervals?{q}&interval=60&format=csv", s.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-disposition"], "attachment; filename=\"ivr-main.csv\"");
    let h = T0 + 60 * MIN;
    let expected = format!(
        "start,end,version,node,kind,entered,dropped,outcomes,timed,total_ms,mean_ms\n\
         {T0},{h},1,menu,menu,5,2,chose:1=1;chose:2=1;dropped=2;timeout=1,4,55000,13750.0\n\
         {T0},{h},1,welcome,play,4,0,next=4,4,16000,4000.0\n\
         {h},{},1,welcome,play,1,1,dropped=1,1,1000,1000.0\n",
        h + 60 * MIN
    );
    assert_eq!(resp.text().await.unwrap(), expected);

    let (status, _) = s
        .call(reqwest::Method::GET, &format!("/api/reports/ivr/main/intervals?{q}&interval=20"), Some(&admin), None)
        .await;
    assert_eq!(status, 400);
    let none = s.get(&format!("/api/reports/ivr/nowhere/intervals?{q}"), &admin).await;
    assert_eq!(none, json!([]));
}
