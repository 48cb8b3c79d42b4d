//! The repair plan of snapshots in Glance, against clouds simulated with
//! the crate's own (parity-proven) flows: instances created from images and
//! from snapshots, rebuilt by a release before the fix for bug 1893618 or
//! after it, snapshotted in between. The simulation records what Nova's
//! fixed rebuild would have written; the plan, made from the facts a tool
//! can read (Glance's images, the instances' `image_ref` and rebuild
//! times), must agree with it wherever it decides, decide wherever the
//! facts allow, and keep its invariants: nothing that has a
//! `base_image_ref` is written, nothing undecidable is planned, a second
//! plan after the first is applied writes nothing.

use std::collections::HashMap;

use nova_sysmeta::image_repair::{self, Decision, Image, InstanceHistory, Reason, Request, Timestamp};
use nova_sysmeta::{
    ImageMeta, ImageType, Instance, NovaConfig, Properties, Release, RequestContext, SystemMetadata, Value,
    create, rebuild, snapshot,
};
use proptest::prelude::*;
use uuid::Uuid;

#[derive(Debug, Clone)]
enum Event {
    /// Rebuild instance `i % n` with listed image `j % m`, by a fixed
    /// release when the flag is set.
    Rebuild(usize, usize, bool),
    /// Snapshot instance `i % n`.
    Snapshot(usize),
    /// Boot a new instance from the newest snapshot (if any).
    BootFromSnapshot,
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        3 => (any::<usize>(), any::<usize>(), any::<bool>()).prop_map(|(i, j, f)| Event::Rebuild(i, j, f)),
        4 => any::<usize>().prop_map(Event::Snapshot),
        1 => Just(Event::BootFromSnapshot),
    ]
}

/// Properties of a base image: a few names, values that collide across
/// images, some a snapshot never inherits.
fn base_properties() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(
        (
            prop_oneof![
                Just("os_distro"),
                Just("hw_disk_bus"),
                Just("os_glance_importing"),
                Just("img_signature"),
                Just("é"),
                Just("image_type")
            ],
            "[a-c]{0,2}",
        )
            .prop_map(|(k, v)| (k.to_owned(), v)),
        0..4,
    )
}

struct Cloud {
    images: Vec<Image>,
    metas: HashMap<String, ImageMeta>,
    instances: Vec<Sim>,
    /// Damaged snapshot id -> what Nova's fixed rebuild would have written.
    truth: HashMap<String, String>,
    clock: i64,
}

struct Sim {
    instance: Instance,
    sm: SystemMetadata,
    image_ref: String,
    rebuilds: Vec<Timestamp>,
    last_rebuild_image: Option<String>,
}

fn at(seconds: i64) -> Timestamp {
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    format!(
        "2026-01-{:02}T{:02}:{:02}:{:02}Z",
        1 + days,
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
    .parse()
    .unwrap()
}

impl Cloud {
    fn tick(&mut self) -> Timestamp {
        self.clock += 60;
        at(self.clock)
    }

    fn boot(&mut self, image_id: &str) {
        let ctx = RequestContext::new("u", "p");
        let meta = &self.metas[image_id];
        let sm = create::populate(&create::Request::new(meta, image_id, &ctx)).unwrap();
        let uuid = Uuid::from_u128(1 + self.instances.len() as u128);
        self.instances.push(Sim {
            instance: Instance::new(uuid, "p").with_image_ref(image_id),
            sm,
            image_ref: image_id.to_owned(),
            rebuilds: Vec::new(),
            last_rebuild_image: None,
        });
    }

    fn apply(&mut self, event: Event, base_count: usize) {
        let n = self.instances.len();
        match event {
            Event::Rebuild(i, j, fixed) => {
                let image_id = self.images[j % base_count].id.clone();
                let release = if fixed {
                    Release::new(34, 0, 0)
                } else {
                    Release::new(20, 0, 0)
                }
                .unwrap();
                let config = NovaConfig::for_release(release);
                let when = self.tick();
                let sim = &mut self.instances[i % n];
                let meta = &self.metas[&image_id];
                sim.sm = rebuild::reset_image_metadata(
                    &rebuild::Request::new(&sim.sm, meta, Some(&image_id)).config(&config),
                )
                .unwrap();
                sim.instance = sim.instance.clone().with_image_ref(&image_id);
                sim.image_ref = image_id.clone();
                sim.rebuilds.push(when);
                sim.last_rebuild_image = Some(image_id);
            }
            Event::Snapshot(i) => {
                let ctx = RequestContext::new("u", "p");
                let id = format!("snap-{}", self.images.len());
                let sim = &self.instances[i % n];
                let meta = snapshot::create_image(
                    &snapshot::Request::new(&ctx, &sim.instance, &sim.sm, &id),
                    ImageType::Snapshot,
                )
                .unwrap();
                if !meta.properties.contains_key("base_image_ref") {
                    // Only a rebuild by a release without the fix loses it.
                    let truth = sim.last_rebuild_image.clone().expect("damage without a rebuild");
                    self.truth.insert(id.clone(), truth);
                }
                let when = self.tick();
                self.images
                    .push(Image::new(&id, when).with_properties(meta.properties.clone()));
                self.metas
                    .insert(id, meta.with_id(format!("snap-{}", self.images.len() - 1)));
            }
            Event::BootFromSnapshot => {
                if let Some(newest) = self.images.iter().rev().find(|i| i.id.starts_with("snap-")) {
                    let id = newest.id.clone();
                    self.tick();
                    self.boot(&id);
                }
            }
        }
    }

    fn histories(&self) -> Vec<InstanceHistory> {
        self.instances
            .iter()
            .map(|s| {
                let mut h = InstanceHistory::new(s.instance.uuid.to_string(), Some(&s.image_ref));
                for r in &s.rebuilds {
                    h = h.rebuilt_at(r.clone());
                }
                h
            })
            .collect()
    }
}

fn cloud(bases: Vec<Vec<(String, String)>>, starts: Vec<usize>, events: Vec<Event>) -> Cloud {
    let mut cloud = Cloud {
        images: Vec::new(),
        metas: HashMap::new(),
        instances: Vec::new(),
        truth: HashMap::new(),
        clock: 0,
    };
    for (b, props) in bases.iter().enumerate() {
        let id = format!("base-{b}");
        let properties: Properties = props.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let when = cloud.tick();
        cloud
            .images
            .push(Image::new(&id, when).with_properties(properties.clone()));
        cloud.metas.insert(
            id.clone(),
            ImageMeta::new().with_id(&id).with_properties(properties),
        );
    }
    for s in starts {
        let id = format!("base-{}", s % bases.len());
        cloud.tick();
        cloud.boot(&id);
    }
    for e in events {
        cloud.apply(e, bases.len());
    }
    cloud
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn the_plan_writes_what_the_fixed_rebuild_would_have(
        bases in prop::collection::vec(base_properties(), 1..4),
        starts in prop::collection::vec(any::<usize>(), 1..4),
        events in prop::collection::vec(event(), 0..25),
    ) {
        let cloud = cloud(bases, starts, events);
        let histories = cloud.histories();
        let plan = image_repair::plan(&Request::new(&cloud.images, &histories)).unwrap();
        prop_assert_eq!(plan.images.len(), cloud.images.len());
        let rebuilt_since = |v: &image_repair::Verdict, image: &Image| {
            let h = histories.iter().find(|h| Some(&h.uuid) == v.instance_uuid.as_ref()).unwrap();
            h.rebuilds.iter().any(|r| *r >= image.created_at)
        };
        for (v, image) in plan.images.iter().zip(&cloud.images) {
            prop_assert_eq!(&v.image_id, &image.id);
            let has_base = image.properties.contains_key("base_image_ref");
            match &v.decision {
                Decision::Set { base_image_ref } => {
                    // Never overwrites; what the fixed rebuild would have written.
                    prop_assert!(!has_base);
                    prop_assert_eq!(Some(base_image_ref), cloud.truth.get(&image.id));
                    prop_assert_eq!(v.reason, Reason::RebuiltBeforeOnly);
                    prop_assert!(!rebuilt_since(v, image));
                }
                Decision::Undecidable { candidates } => {
                    prop_assert!(!has_base);
                    prop_assert_eq!(v.reason, Reason::RebuiltSince);
                    prop_assert!(rebuilt_since(v, image));
                    // The image it really came from is among the candidates.
                    let truth = &cloud.truth[&image.id];
                    prop_assert!(candidates.contains(truth), "{} not in {:?}", truth, candidates);
                }
                Decision::Keep => {
                    // Every damaged snapshot is planned or undecidable.
                    prop_assert!(!cloud.truth.contains_key(&image.id));
                }
                Decision::Propagated { names, origin } => {
                    prop_assert!(has_base);
                    prop_assert!(cloud.truth.contains_key(names));
                    if let Some(origin) = origin {
                        prop_assert_eq!(origin, &cloud.truth[names]);
                    }
                }
                _ => prop_assert!(false, "a decision the test does not know"),
            }
        }
        // Every instance still on a damaged snapshot is reported.
        for h in &histories {
            let on_damaged = h.image_ref.as_ref().is_some_and(|r| cloud.truth.contains_key(r));
            prop_assert_eq!(on_damaged, plan.instances.iter().any(|b| b.instance_uuid == h.uuid));
        }

        // Applied, the plan leaves nothing to write.
        let writes: HashMap<&str, &str> = plan.writes().collect();
        let mut repaired = cloud.images.clone();
        for image in &mut repaired {
            if let Some(base) = writes.get(image.id.as_str()) {
                image.properties.insert("base_image_ref", Value::from(*base)).unwrap();
            }
        }
        let again = image_repair::plan(&Request::new(&repaired, &histories)).unwrap();
        prop_assert_eq!(again.writes().count(), 0);
        for (before, after) in plan.images.iter().zip(&again.images) {
            if let Decision::Undecidable { .. } = before.decision {
                prop_assert_eq!(&after.decision, &before.decision);
            }
        }
    }

    /// Named bases are written only where the image lacks one, and win
    /// over the facts; a name for an image with a base is refused.
    #[test]
    fn named_bases_never_overwrite(
        bases in prop::collection::vec(base_properties(), 1..3),
        starts in prop::collection::vec(any::<usize>(), 1..3),
        events in prop::collection::vec(event(), 0..15),
        pick in any::<usize>(),
    ) {
        let cloud = cloud(bases, starts, events);
        let histories = cloud.histories();
        let image = &cloud.images[pick % cloud.images.len()];
        let result = image_repair::plan(&Request::new(&cloud.images, &histories).base(&image.id, "named"));
        if image.properties.contains_key("base_image_ref") {
            let err = result.unwrap_err();
            prop_assert_eq!(err.kind(), "invalid_base");
        } else {
            let plan = result.unwrap();
            let v = plan.images.iter().find(|v| v.image_id == image.id).unwrap();
            if v.instance_uuid.is_some() {
                prop_assert_eq!(&v.decision, &Decision::Set { base_image_ref: "named".into() });
                prop_assert_eq!(v.reason, Reason::NamedByOperator);
            } else {
                prop_assert_eq!(v.reason, Reason::NotASnapshot);
            }
        }
    }

    /// Any JSON in the properties the plan reads, any instance facts:
    /// never a panic, never a write onto a present `base_image_ref`.
    #[test]
    fn adversarial_records_never_panic_or_overwrite(
        records in prop::collection::vec(
            (
                "[ab]",
                prop_oneof![Just(Value::from("snapshot")), Just(Value::from("backup")), Just(Value::from(1)), Just(Value::Null), Just(Value::from("SNAPSHOT"))],
                prop_oneof![Just(Value::from("i")), Just(Value::from("")), Just(Value::from(true)), Just(Value::from(vec![Value::from("i")]))],
                prop::option::of(prop_oneof![Just(Value::from("x")), Just(Value::from("")), Just(Value::Null), Just(Value::from(2))]),
                0i64..5,
            ),
            0..8,
        ),
        rebuilds in prop::collection::vec(0i64..6, 0..4),
        image_ref in prop::option::of(prop_oneof![Just(String::new()), Just("a".to_owned()), Just("base".to_owned())]),
    ) {
        let images: Vec<Image> = records
            .iter()
            .map(|(id, image_type, instance, base, t)| {
                let mut props = Properties::new();
                props.insert("image_type", image_type.clone()).unwrap();
                props.insert("instance_uuid", instance.clone()).unwrap();
                if let Some(base) = base {
                    props.insert("base_image_ref", base.clone()).unwrap();
                }
                Image::new(id.as_str(), at(t * 60)).with_properties(props)
            })
            .collect();
        let mut history = InstanceHistory::new("i", image_ref.as_deref());
        for r in rebuilds {
            history = history.rebuilt_at(at(r * 60));
        }
        let plan = image_repair::plan(&Request::new(&images, &[history])).unwrap();
        for (v, image) in plan.images.iter().zip(&images) {
            if image.properties.contains_key("base_image_ref") {
                let set = matches!(v.decision, Decision::Set { .. });
                prop_assert!(!set);
            }
            if let Decision::Set { base_image_ref } = &v.decision {
                prop_assert!(!base_image_ref.is_empty() && base_image_ref != &image.id);
            }
        }
        let json = serde_json::to_string(&plan).unwrap();
        let back: image_repair::Plan = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back, plan);
    }
}

/// The simulation is not vacuous: over the generated clouds, every kind of
/// verdict the first property checks occurs, and damaged snapshots booted
/// from are reported.
#[test]
fn the_simulated_clouds_reach_every_decision() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let strategy = (
        prop::collection::vec(base_properties(), 1..4),
        prop::collection::vec(any::<usize>(), 1..4),
        prop::collection::vec(event(), 0..25),
    );
    let mut runner = TestRunner::deterministic();
    let mut seen: HashMap<&'static str, usize> = HashMap::new();
    for _ in 0..200 {
        let (bases, starts, events) = strategy.new_tree(&mut runner).unwrap().current();
        let cloud = cloud(bases, starts, events);
        let histories = cloud.histories();
        let plan = image_repair::plan(&Request::new(&cloud.images, &histories)).unwrap();
        for v in &plan.images {
            let kind = match (&v.decision, v.reason) {
                (Decision::Set { .. }, _) => "set",
                (Decision::Undecidable { .. }, _) => "undecidable",
                (Decision::Propagated { .. }, _) => "propagated",
                (Decision::Keep, Reason::HasBaseImageRef) => "has_base",
                (Decision::Keep, _) => "keep",
                _ => "other",
            };
            *seen.entry(kind).or_default() += 1;
        }
        *seen.entry("booted_from_damaged").or_default() += plan.instances.len();
    }
    for kind in [
        "set",
        "undecidable",
        "propagated",
        "has_base",
        "keep",
        "booted_from_damaged",
    ] {
        assert!(seen.get(kind).copied().unwrap_or(0) > 0, "no {kind} in {seen:?}");
    }
    eprintln!("verdicts over 200 simulated clouds: {seen:?}");
}
