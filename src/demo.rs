//! Demo data: realistic Chinese companies, contacts, regions and tags from the
//! word lists in `assets/demo/`, deterministic for a given seed, at any size.
//! Used on the app's first start and by the benchmarks.

use crate::clock::Millis;
use crate::contacts::ContactFields;
use crate::customers::{
    self, CustomerFields, CustomerKind, Grade, NewCustomer, Status, INDUSTRIES, SIZES, SOURCES,
};
use crate::db::Workspace;
use crate::error::Result;
use crate::members::{self, MemberFields, Role};
use rand::rngs::SmallRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

fn words(text: &'static str) -> Vec<&'static str> {
    text.split_whitespace().collect()
}

struct Lists {
    brands: Vec<&'static str>,
    trades: Vec<&'static str>,
    regions: Vec<[&'static str; 3]>,
    surnames: Vec<&'static str>,
    given: Vec<&'static str>,
    tags: Vec<&'static str>,
    titles: Vec<&'static str>,
    notes: Vec<&'static str>,
}

fn lists() -> Lists {
    Lists {
        brands: words(include_str!("../assets/demo/brands.txt")),
        trades: words(include_str!("../assets/demo/industries.txt")),
        regions: include_str!("../assets/demo/regions.txt")
            .lines()
            .filter_map(|l| {
                let p: Vec<_> = l.split_whitespace().collect();
                (p.len() == 3).then(|| [p[0], p[1], p[2]])
            })
            .collect(),
        surnames: words(include_str!("../assets/demo/surnames.txt")),
        given: words(include_str!("../assets/demo/given.txt")),
        tags: words(include_str!("../assets/demo/tags.txt")),
        titles: words(include_str!("../assets/demo/titles.txt")),
        notes: include_str!("../assets/demo/notes.txt")
            .lines()
            .filter(|l| !l.is_empty())
            .collect(),
    }
}

const DAY: i64 = 86_400_000;

/// Which industry of the picker list a trade word belongs to.
fn industry_of(trade: &str) -> &'static str {
    let pairs: &[(&str, &str)] = &[
        ("软件", "软件"),
        ("网络", "互联网"),
        ("信息", "信息技术"),
        ("通信", "通信"),
        ("电子", "电子"),
        ("智能", "电子"),
        ("机械", "机械设备"),
        ("制造", "制造业"),
        ("化工", "化工"),
        ("材料", "制造业"),
        ("医疗", "医疗健康"),
        ("医药", "医药"),
        ("教育", "教育培训"),
        ("传媒", "文化传媒"),
        ("广告", "广告营销"),
        ("物流", "物流运输"),
        ("供应链", "物流运输"),
        ("贸易", "批发零售"),
        ("商贸", "批发零售"),
        ("电子商务", "电子商务"),
        ("建筑", "建筑工程"),
        ("装饰", "家居建材"),
        ("环保", "环保"),
        ("能源", "能源电力"),
        ("电力", "能源电力"),
        ("汽车", "汽车"),
        ("食品", "食品饮料"),
        ("餐饮", "餐饮"),
        ("服饰", "纺织服装"),
        ("家居", "家居建材"),
        ("建材", "家居建材"),
        ("包装", "制造业"),
        ("印刷", "制造业"),
        ("农业", "农林牧渔"),
        ("咨询", "咨询服务"),
        ("人力", "人力资源"),
        ("酒店", "酒店旅游"),
        ("旅游", "酒店旅游"),
        ("仪器", "机械设备"),
        ("科技", "信息技术"),
    ];
    pairs
        .iter()
        .find(|(k, _)| trade.contains(k))
        .map(|p| p.1)
        .unwrap_or("其他")
}

/// Add `n` demo customers (and, on an empty workspace, a small team with
/// "me"). Deterministic for a given `seed` and starting state.
pub fn generate(ws: &mut Workspace, n: usize, seed: u64) -> Result<usize> {
    let mut team: Vec<String> = members::list(ws.conn())?
        .into_iter()
        .map(|m| m.id)
        .collect();
    if team.is_empty() {
        for (i, (name, dept, role)) in [
            ("王磊", "华东销售部", Role::Manager),
            ("李娜", "华东销售部", Role::Rep),
            ("张伟", "华南销售部", Role::Rep),
            ("陈静", "华北销售部", Role::Rep),
            ("刘洋", "大客户部", Role::Rep),
        ]
        .into_iter()
        .enumerate()
        {
            let m = members::add(
                ws,
                MemberFields {
                    name: name.into(),
                    employee_no: Some(format!("E{:04}", 1001 + i)),
                    department: Some(dept.into()),
                    role,
                },
            )?;
            team.push(m.id);
        }
        members::set_me(ws, &team[1])?;
    }
    let _ = INDUSTRIES;
    let now = ws.now_ms();
    let mut sampler = Sampler::new(seed, now, team);
    // Into an (almost) empty workspace everything goes in one write that
    // builds the read-side indexes once at the end (100k customers: about
    // 2.5 s of 14.5 s saved); otherwise in steps of 20k.
    let bulk = crate::db::DeferredIndexes::pays_off(ws.conn(), n)?;
    let step = if bulk { n } else { 20_000 };
    ws.bulk_load(n, |ws| load_customers(ws, &mut sampler, n, step, now))?;
    Ok(n)
}

/// Write `n` sampled customers in writes of `step`, the last change at `now`.
fn load_customers(
    ws: &mut Workspace,
    sampler: &mut Sampler,
    n: usize,
    step: usize,
    now: Millis,
) -> Result<()> {
    let origin = "demo";
    // Codes follow each customer's creation date; continue after existing ones.
    let mut seq_by_day = std::collections::HashMap::<String, u64>::new();
    for chunk_start in (0..n).step_by(step.max(1)) {
        let chunk = (n - chunk_start).min(step);
        ws.write(origin, |w| {
            let deferred = crate::db::DeferredIndexes::for_load(w.tx(), chunk)?;
            for _ in 0..chunk {
                let DemoCustomer {
                    customer: new,
                    created,
                    updated,
                } = sampler.next_customer();
                let day = crate::clock::local_date_compact(created);
                let seq = match seq_by_day.get_mut(&day) {
                    Some(s) => s,
                    None => {
                        let next = customers::next_code(w.tx(), created)?;
                        let start = next[9..].parse::<u64>().unwrap_or(1) - 1;
                        seq_by_day.entry(day.clone()).or_insert(start)
                    }
                };
                *seq += 1;
                let code = format!("C{day}{:03}", *seq);
                w.set_now(updated);
                customers::insert_created_at(w, new, Some(code), created)?;
            }
            w.set_now(now);
            // Into an empty workspace the search postings are written on
            // other threads while the indexes set aside are rebuilt here.
            let mut search = w.begin_reindex()?;
            if let Some(d) = deferred {
                d.rebuild_with(w.tx(), || search.feed(w.tx()))?;
            }
            search.finish(w.tx())
        })?;
    }
    Ok(())
}

/// A stream of demo customers: names, regions, contacts and tags drawn from
/// the word lists. `generate` stores them; benchmarks that need only the
/// customer rows (a 1M duplicate scan) can store them more cheaply.
pub struct Sampler {
    l: Lists,
    rng: SmallRng,
    now: i64,
    team: Vec<String>,
}

/// One drawn customer with its creation and last-update times.
pub struct DemoCustomer {
    pub customer: NewCustomer,
    pub created: i64,
    pub updated: i64,
}

impl Sampler {
    /// Customers created within two years before `now`, owned by one of `team`.
    pub fn new(seed: u64, now: i64, team: Vec<String>) -> Sampler {
        Sampler {
            l: lists(),
            rng: SmallRng::seed_from_u64(seed),
            now,
            team,
        }
    }

    pub fn next_customer(&mut self) -> DemoCustomer {
        let [province, city, district] = *self.l.regions.choose(&mut self.rng).unwrap();
        let brand = self.l.brands.choose(&mut self.rng).unwrap();
        let trade = self.l.trades.choose(&mut self.rng).unwrap();
        let suffix = [
            "有限公司",
            "有限公司",
            "有限公司",
            "股份有限公司",
            "有限责任公司",
        ]
        .choose(&mut self.rng)
        .unwrap();
        let city_short = city.trim_end_matches('市');
        let name = if self.rng.random_bool(0.7) {
            format!("{city_short}{brand}{trade}{suffix}")
        } else {
            format!("{brand}{trade}{suffix}")
        };
        let created =
            self.now - self.rng.random_range(0..730) * DAY - self.rng.random_range(0..DAY);
        let status = *[
            Status::Prospect,
            Status::Prospect,
            Status::Interested,
            Status::Interested,
            Status::Won,
            Status::Lost,
        ]
        .choose(&mut self.rng)
        .unwrap();
        let mut contacts = vec![];
        for _ in 0..self.rng.random_range(1..=3) {
            let surname = self.l.surnames.choose(&mut self.rng).unwrap();
            let given = self.l.given.choose(&mut self.rng).unwrap();
            let mobile = format!(
                "1{}{:09}",
                ["3", "5", "7", "8", "9"].choose(&mut self.rng).unwrap(),
                self.rng.random_range(0..1_000_000_000u64)
            );
            let email = self.rng.random_bool(0.5).then(|| {
                format!(
                    "{}{}@{}.com",
                    pinyin_word(surname),
                    self.rng.random_range(1..999),
                    pinyin_word(brand)
                )
            });
            contacts.push(ContactFields {
                name: format!("{surname}{given}"),
                title: Some(self.l.titles.choose(&mut self.rng).unwrap().to_string()),
                mobile: Some(mobile),
                email,
                ..Default::default()
            });
        }
        let n_tags = self.rng.random_range(0..=3);
        let tags: Vec<String> = self
            .l
            .tags
            .choose_multiple(&mut self.rng, n_tags)
            .map(|t| t.to_string())
            .collect();
        let fields = CustomerFields {
            name,
            kind: CustomerKind::Company,
            industry: Some(industry_of(trade).to_string()),
            size: Some(SIZES.choose(&mut self.rng).unwrap().to_string()),
            province: Some(province.to_string()),
            city: Some(city.to_string()),
            district: Some(district.to_string()),
            address: Some(format!(
                "{city}{district}{}路{}号",
                self.l.brands.choose(&mut self.rng).unwrap(),
                self.rng.random_range(1..999)
            )),
            source: Some(SOURCES.choose(&mut self.rng).unwrap().to_string()),
            status,
            grade: Some(*Grade::ALL.choose(&mut self.rng).unwrap()),
            owner_id: self.team.choose(&mut self.rng).cloned(),
            needs: None,
            budget: self
                .rng
                .random_bool(0.6)
                .then(|| (self.rng.random_range(1..500) * 10_000) as f64),
            purchase_cycle: Some(
                ["每月", "每季度", "每半年", "每年"]
                    .choose(&mut self.rng)
                    .unwrap()
                    .to_string(),
            ),
            annual_purchase: self
                .rng
                .random_bool(0.5)
                .then(|| (self.rng.random_range(5..2000) * 1_000) as f64),
            first_contact_date: Some(
                chrono::DateTime::from_timestamp_millis(created)
                    .unwrap_or_default()
                    .format("%Y-%m-%d")
                    .to_string(),
            ),
            notes: self
                .rng
                .random_bool(0.4)
                .then(|| self.l.notes.choose(&mut self.rng).unwrap().to_string()),
        };
        let updated = created + self.rng.random_range(0..(self.now - created).max(1));
        DemoCustomer {
            customer: NewCustomer {
                fields,
                contacts,
                tags,
            },
            created,
            updated,
        }
    }
}

/// A lower-case latin word for demo email addresses.
fn pinyin_word(text: &str) -> String {
    crate::search::pinyin_forms(text).0
}

const MIN: i64 = 60_000;

/// Follow-up lines a salesperson might have written, by kind of outcome.
const CONTENTS: &[(&str, &str, &str)] = &[
    (
        "电话沟通采购计划",
        "客户预算已批，关注交付周期",
        "下周发送正式报价",
    ),
    (
        "上门拜访采购经理",
        "对产品质量比较认可，价格偏高",
        "准备阶梯折扣方案",
    ),
    ("发送产品资料", "已收到资料，需要内部评估", "三天后电话确认"),
    (
        "线上会议演示方案",
        "技术部门提出两处定制需求",
        "与产品经理确认定制可行性",
    ),
    (
        "微信沟通样品试用",
        "试用效果不错，准备小批量采购",
        "安排合同条款沟通",
    ),
    ("电话回访", "近期没有采购计划，明年再联系", "下季度再回访"),
    ("商务谈判", "价格过高，希望再降 5%", "申请特价审批"),
];

/// Give demo customers a history: past follow-ups (some effective, some
/// not), plans for the coming days (a few due today, some overdue), and
/// opportunities spread over the pipeline with back-dated stage changes.
/// Deterministic for a given seed and set of customers.
pub fn generate_activity(ws: &mut Workspace, seed: u64) -> Result<usize> {
    use crate::followups::{self, FollowupFields, Kind, NewFollowup};
    use crate::opportunities::{self, NewOpportunity, OpportunityFields};
    let mut rng = SmallRng::seed_from_u64(seed ^ 0x5eed);
    let now = ws.now_ms();
    let customers: Vec<(String, i64, Option<String>, String)> = ws
        .conn()
        .prepare("SELECT id, created_at, owner_id, name FROM customers WHERE deleted_at IS NULL ORDER BY code")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let stages: Vec<String> = crate::pipeline::stages(ws.conn())?
        .into_iter()
        .map(|s| s.key)
        .collect();
    let open_stages = &stages[..stages.len().saturating_sub(1)];
    let mut count = 0;
    ws.write("demo", |w| {
        for (id, created, owner, name) in &customers {
            // Past follow-ups between creation and now.
            let span = (now - created).max(DAY);
            let mut times: Vec<i64> = (0..rng.random_range(0..4))
                .map(|_| created + rng.random_range(0..span))
                .collect();
            times.sort();
            for t in times {
                let (purpose, feedback, next) = *CONTENTS.choose(&mut rng).unwrap();
                w.set_now(t);
                followups::insert(
                    w,
                    NewFollowup {
                        customer: id.clone(),
                        fields: FollowupFields {
                            kind: *Kind::ALL.choose(&mut rng).unwrap(),
                            owner_id: owner.clone(),
                            purpose: Some(purpose.into()),
                            content: Some(purpose.into()),
                            feedback: Some(feedback.into()),
                            next_step: Some(next.into()),
                            effective: Some(rng.random_bool(0.7)),
                            ..Default::default()
                        },
                        done: true,
                        done_at: Some(t),
                        ..Default::default()
                    },
                )?;
                count += 1;
            }
            w.set_now(now);
            // Plans: a few later today (never within the next two hours, so a
            // fresh start fires no reminder at once), most in the next two weeks.
            if rng.random_bool(0.12) {
                let planned = if rng.random_bool(0.3) {
                    now + rng.random_range(2 * 60..10 * 60) * MIN
                } else {
                    now + rng.random_range(1..14) * DAY
                };
                let (purpose, _, _) = *CONTENTS.choose(&mut rng).unwrap();
                followups::insert(
                    w,
                    NewFollowup {
                        customer: id.clone(),
                        fields: FollowupFields {
                            kind: *Kind::ALL.choose(&mut rng).unwrap(),
                            owner_id: owner.clone(),
                            purpose: Some(purpose.into()),
                            ..Default::default()
                        },
                        planned_at: Some(planned / MIN * MIN),
                        ..Default::default()
                    },
                )?;
                count += 1;
            }
            // Opportunities on about a third of the customers.
            if rng.random_bool(0.3) && !open_stages.is_empty() {
                // Deals of the last four months, so the board looks like a
                // working pipeline rather than a museum.
                let start = (*created).max(now - 120 * DAY);
                let mut t = start + rng.random_range(0..(now - start) / 2 + 1);
                w.set_now(t);
                let amount = (rng.random_range(2..200) * 5_000) as f64;
                let short: String = name.chars().take(6).collect();
                let opp = opportunities::insert(
                    w,
                    NewOpportunity {
                        customer: id.clone(),
                        fields: OpportunityFields {
                            name: format!(
                                "{short}{}",
                                ["采购项目", "年度框架合同", "设备升级", "系统建设"]
                                    .choose(&mut rng)
                                    .unwrap()
                            ),
                            owner_id: owner.clone(),
                            expected_amount: Some(amount),
                            ..Default::default()
                        },
                        stage: None,
                    },
                )?;
                // Walk forward through the open stages; some deals are lost
                // on the way (输单 needs a reason).
                let reach = rng.random_range(0..open_stages.len());
                let lost = rng.random_bool(0.2);
                for stage in open_stages.iter().take(reach + 1).skip(1) {
                    t += rng.random_range(1..15) * DAY;
                    if t >= now {
                        break;
                    }
                    w.set_now(t);
                    opportunities::set_stage_in(w, &opp, stage, None)?;
                }
                t += rng.random_range(1..10) * DAY;
                if lost && t < now {
                    w.set_now(t);
                    let reason = ["价格过高", "选择了竞品", "预算取消", "需求变化"]
                        .choose(&mut rng)
                        .unwrap();
                    opportunities::set_stage_in(w, &opp, crate::pipeline::LOST, Some(reason))?;
                }
                w.set_now(now);
                count += 1;
            }
        }
        w.set_now(now);
        Ok(())
    })?;
    Ok(count)
}

/// Customers plus their activity: what a first start shows.
pub fn populate(ws: &mut Workspace, customers: usize, seed: u64) -> Result<usize> {
    generate(ws, customers, seed)?;
    generate_activity(ws, seed)
}
