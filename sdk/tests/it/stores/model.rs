//! The stores against a model under random operations, and PostgreSQL
//! effects committed with their completion.

use super::*;

pub(super) fn normal<T>(result: Result<T, StoreError>, ok: impl FnOnce(T) -> Answer) -> Answer {
    match result {
        Ok(value) => ok(value),
        Err(StoreError::Fenced) => Answer::Fenced,
        Err(other) => panic!("store failed: {other:?}"),
    }
}

pub(super) async fn apply(
    store: &dyn DeliveryStore,
    clock: &backends::ManualClock,
    tokens: &mut Tokens,
    op: &Op,
) -> Answer {
    let now = clock.now();
    match *op {
        Op::Claim(k, lease) => {
            let lease = Duration::from_secs(u64::from(lease));
            normal(store.claim(&key(k), lease).await, |begin| match begin {
                Claimed::New(l) => Answer::Claim(format!(
                    "new {} {:?}",
                    tokens.record(&key(k), l.token),
                    l.expires
                )),
                other => Answer::Claim(format!("{other:?}")),
            })
        }
        Op::Complete(k, t) => normal(
            store.complete(&key(k), tokens.pick(&key(k), t)).await,
            |()| Answer::Unit,
        ),
        Op::Abort(k, t) => normal(store.abort(&key(k), tokens.pick(&key(k), t)).await, |()| {
            Answer::Unit
        }),
        Op::Renew(k, t) => normal(
            store
                .renew(&key(k), tokens.pick(&key(k), t), Duration::from_secs(20))
                .await,
            Answer::Expires,
        ),
        Op::Accept(k) => normal(store.accept(stored(&key(k), now)).await, Answer::Accepted),
        Op::ClaimJobs(max) => normal(
            store
                .claim_jobs(usize::from(max), Duration::from_secs(15))
                .await,
            |jobs: Vec<ClaimedJob>| {
                let mut jobs: Vec<_> = jobs
                    .into_iter()
                    .map(|job| {
                        let key = job.delivery.key.clone();
                        let nth = tokens.record(&key, job.lease.token);
                        (key, nth, job.lease.expires, job.attempt, job.delivery)
                    })
                    .collect();
                jobs.sort_by(|a, b| a.0.cmp(&b.0));
                Answer::Jobs(jobs)
            },
        ),
        Op::Fail(k, t, retry) => {
            let retry_at = retry.map(|s| now + Duration::from_secs(u64::from(s)));
            normal(
                store
                    .fail(&key(k), tokens.pick(&key(k), t), retry_at, "failed")
                    .await,
                |()| Answer::Unit,
            )
        }
        Op::Retry(k) => {
            let id = k.map(|k| key(k).id);
            normal(store.retry(id.as_ref()).await, Answer::Count)
        }
        Op::Advance(s) => {
            clock.advance(Duration::from_secs(u64::from(s)));
            Answer::Unit
        }
        Op::Purge(age, dead) => {
            let before = now - Duration::from_secs(u64::from(age));
            normal(
                store
                    .purge(Purge {
                        before,
                        bodies_before: Some(before + Duration::from_secs(10)),
                        dead,
                    })
                    .await,
                Answer::Purged,
            )
        }
        Op::Stats => normal(store.stats().await, Answer::Stats),
        Op::List(filter) => {
            let filter = match filter {
                0 => ListFilter::All,
                1 => ListFilter::Failed,
                2 => ListFilter::State(State::Dead),
                _ => ListFilter::State(State::Active),
            };
            normal(store.list(filter, 100).await, Answer::Records)
        }
        Op::Get(k) => normal(store.get(&key(k).id).await, Answer::Found),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn every_backend_answers_the_same_operations_the_same(ops in proptest::collection::vec(op(), 1..60)) {
        let runtime = runtime();
        let mismatch = runtime.block_on(async {
            let mut stores = Vec::new();
            for backend in backends::all() {
                if let Some(opened) = backends::open(backend, "model").await {
                    stores.push((opened, Tokens::default()));
                }
            }
            for (step, op) in ops.iter().enumerate() {
                let mut answers = Vec::new();
                for (opened, tokens) in &mut stores {
                    answers.push((opened.backend, apply(opened.store.as_ref(), &opened.clock, tokens, op).await));
                }
                let (first_backend, first) = &answers[0];
                for (backend, answer) in &answers[1..] {
                    if answer != first {
                        return Some(format!("step {step} {op:?}: {first_backend:?} {first:?}, {backend:?} {answer:?}"));
                    }
                }
            }
            None::<String>
        });
        prop_assert_eq!(mismatch, None);
    }
}

/// `PostgresStore::complete_with`: the effect commits with the completion,
/// a stale claim runs no effect, and an effect that fails fails alone,
/// leaving its delivery active, while the batch it shared completes.
#[cfg(feature = "postgres")]
#[test]
pub(super) fn postgres_effects_commit_with_their_completion_and_fail_alone() {
    use icr_webhooks::once::postgres::{Effect, PostgresStore};
    runtime().block_on(async {
        let Some(url) = backends::fresh_schema("effects").await else {
            return;
        };
        let store = PostgresStore::connect(&url).await.unwrap();
        let client = store.pool().get().await.unwrap();
        client
            .batch_execute("CREATE TABLE seen (guid text NOT NULL)")
            .await
            .unwrap();
        let insert = |key: &DeliveryKey| {
            Effect::new(
                "INSERT INTO seen (guid) VALUES ($1)",
                vec![Box::new(key.id.as_str().to_owned())],
            )
        };
        let mut leases = Vec::new();
        for n in 0..6 {
            leases.push(new_lease(store.claim(&key(n), LEASE).await.unwrap()));
        }
        // Five good ones and one bad one, at once: one batch.
        let mut tasks = Vec::new();
        for n in 0..6_u32 {
            let store = store.clone();
            let token = leases[n as usize].token;
            let effect = if n == 3 {
                Effect::new(
                    "INSERT INTO no_such_table VALUES ($1)",
                    vec![Box::new(1_i64)],
                )
            } else {
                insert(&key(n))
            };
            tasks.push(tokio::spawn(async move {
                store.complete_with(&key(n), token, effect).await
            }));
        }
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(match task.await.unwrap() {
                Ok(()) => "done",
                Err(StoreError::Backend { .. }) => "backend",
                Err(other) => panic!("{other:?}"),
            });
        }
        assert_eq!(
            outcomes,
            ["done", "done", "done", "backend", "done", "done"]
        );
        let stale = store
            .complete_with(&key(0), leases[0].token, insert(&key(0)))
            .await;
        assert!(matches!(stale, Err(StoreError::Fenced)), "{stale:?}");
        let mut seen: Vec<String> = client
            .query("SELECT guid FROM seen", &[])
            .await
            .unwrap()
            .iter()
            .map(|row| row.get(0))
            .collect();
        seen.sort();
        let want: Vec<String> = [0, 1, 2, 4, 5]
            .into_iter()
            .map(|n| key(n).id.as_str().to_owned())
            .collect();
        assert_eq!(
            seen, want,
            "one row per completed delivery, none for the stale or the failed"
        );
        let stats = store.stats().await.unwrap();
        assert_eq!((stats.done, stats.active), (5, 1));
    });
}
