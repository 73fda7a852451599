//! The container instances of one cluster, their free resources, and the indexes over them.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Bound;

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

use crate::bucket::{Bucket, Entry};
use crate::query::Facts;
use crate::types::*;

/// Registration status of a container instance, as placement sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceStatus {
    /// Known to the cluster but not yet registered (launching).
    Registering,
    /// Takes new tasks.
    Active,
    /// Takes no new tasks (ECS-DG `container-instance-draining.html`); its tasks still count.
    Draining,
    /// Gone; holds nothing.
    Deregistered,
}

/// How ties that every strategy ranks equal are broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TieBreak {
    /// A seeded random choice (per-instance random tokens; see the crate docs).
    #[default]
    Random,
    /// The instance registered first wins.
    LowestIndex,
}

/// Which indexes to keep beyond the CPU index. Each one costs an ordered-set update per
/// allocation change; the placement answer is as good without them, only slower to find.
#[derive(Debug, Clone, Default)]
pub struct IndexConfig {
    /// Instances bucketed by free memory (for `binpack(memory)`).
    pub by_memory: bool,
    /// Task counts per group and Availability Zone (for `spread(attribute:ecs.availability-zone)`).
    pub az_counts: bool,
    /// Other attributes that `spread` strategies use; their per-value counts are kept.
    pub spread_attributes: Vec<String>,
    /// How remaining ties are broken.
    pub tie_break: TieBreak,
}

/// What a new container instance registers.
#[derive(Debug, Clone)]
pub struct InstanceSpec {
    /// `ec2InstanceId`.
    pub ec2_instance_id: String,
    /// Registered CPU units (vCPU x 1024).
    pub cpu_units: u32,
    /// Registered memory, MiB.
    pub memory_mib: u32,
    /// awsvpc tasks the instance can hold (ENI attachments less the primary one).
    pub eni_tasks: u32,
    /// Built-in and custom attributes, name then value.
    pub attributes: Vec<(String, String)>,
    /// `agentVersion`.
    pub agent_version: String,
    /// Pool (capacity provider) the instance belongs to; 0 for none.
    pub pool: u32,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Interner {
    names: Vec<String>,
    ids: BTreeMap<String, u32>,
}

impl Interner {
    pub(crate) fn intern(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(s.to_string());
        self.ids.insert(s.to_string(), id);
        id
    }
    pub(crate) fn get(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
    }
    pub(crate) fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }
}

/// Value id used for "attribute not set" in per-value counts.
pub(crate) const NO_VALUE: u32 = u32::MAX;

#[derive(Clone, Debug)]
pub(crate) struct Inst {
    pub(crate) ec2_id: String,
    pub(crate) agent_version: String,
    pub(crate) cpu_total: u32,
    pub(crate) mem_total: u32,
    pub(crate) eni_total: u32,
    pub(crate) cpu_avail: u32,
    pub(crate) mem_avail: u32,
    pub(crate) eni_avail: u32,
    pub(crate) ports: Vec<HostPort>,
    pub(crate) attrs: Vec<(u32, u32)>,
    /// Tasks per group on it, by group; inline up to two groups (the usual case), so that a
    /// prefetch of the record covers them.
    pub(crate) groups: smallvec::SmallVec<[(GroupId, u32); 2]>,
    pub(crate) running: u32,
    pub(crate) status: InstanceStatus,
    pub(crate) agent_connected: bool,
    pub(crate) registered_at_ms: u64,
    pub(crate) token: u64,
    pub(crate) part: u32,
    pub(crate) pool: u32,
    pub(crate) az: u32,
    /// Position in its partition's `members` while ACTIVE.
    pub(crate) member_pos: u32,
    /// Slots of its buckets (free CPU, free memory) while ACTIVE.
    cpu_slot: u32,
    mem_slot: u32,
}

impl Inst {
    pub(crate) fn group_count(&self, g: GroupId) -> u32 {
        self.groups
            .binary_search_by_key(&g, |&(k, _)| k)
            .map_or(0, |i| self.groups[i].1)
    }
    pub(crate) fn attr(&self, key: u32) -> u32 {
        self.attrs
            .binary_search_by_key(&key, |&(k, _)| k)
            .map_or(NO_VALUE, |i| self.attrs[i].1)
    }
}

/// ACTIVE instances bucketed by free amount of one resource; each bucket ordered by the free
/// amount of the other resource, then token. Buckets live in slots; an instance remembers the
/// slot of its bucket, so that leaving it needs no lookup by amount. A bucket leaves the map once
/// it is empty (a walk then visits only free amounts some instance has now, not every amount one
/// ever had: with a trace's per-task sizes those are unbounded in number) and its slot, with its
/// allocations, waits for the next new amount.
///
/// Joining a bucket looks its amount up in a small direct-mapped cache, then in a hash table
/// (a few tens of instructions where the ordered map's search costs about a hundred); the
/// ordered map changes only when an amount gets its first instance or loses its last, and
/// serves the walks in order of amount. Neither the cache nor the hash table is ever iterated,
/// so their order cannot reach a result.
#[derive(Clone, Debug)]
pub(crate) struct Buckets {
    /// Free amount -> slot of its bucket, in order for walks.
    by_amount: BTreeMap<u32, u32>,
    /// The same map, hashed, for lookups by amount.
    slot_of: HashMap<u32, u32, BuildHasherDefault<AmountHasher>>,
    /// Recently looked-up (amount, slot) pairs, each at its amount's [`recent_at`] (a slot of
    /// `NO_SLOT`: none): most clusters have a few distinct free amounts, which then all stay here.
    recent: [(u32, u32); RECENT],
    slots: Vec<Bucket>,
    /// Slots of emptied buckets.
    spare: Vec<u32>,
}

/// Size of [`Buckets::recent`].
const RECENT: usize = 64;
/// The empty line of [`Buckets::recent`].
const NO_SLOT: u32 = u32::MAX;

/// The line of [`Buckets::recent`] for an amount (Fibonacci hashing: amounts that are multiples
/// of 256 or 1,024 spread over the lines).
#[inline]
fn recent_at(amount: u32) -> usize {
    (amount.wrapping_mul(0x9E37_79B9) >> 26) as usize % RECENT
}

impl Default for Buckets {
    fn default() -> Buckets {
        Buckets {
            by_amount: BTreeMap::new(),
            slot_of: HashMap::default(),
            recent: [(0, NO_SLOT); RECENT],
            slots: Vec::new(),
            spare: Vec::new(),
        }
    }
}

/// A hasher for one `u32` key (a free amount): a multiply by an odd constant, its high bits
/// folded into the low ones (amounts are often multiples of 256, which a plain multiply would
/// keep in the low bits). Not resistant to chosen keys, which cost only speed here: the amounts
/// come from the instance types and task sizes of the scenario.
#[derive(Default, Clone, Copy, Debug)]
pub(crate) struct AmountHasher(u64);

impl Hasher for AmountHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u32(u32::from(b));
        }
    }
    #[inline]
    fn write_u32(&mut self, n: u32) {
        let p = (self.0 ^ u64::from(n)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = p ^ (p >> 32);
    }
}

impl Buckets {
    /// Add an entry to the bucket of `amount`; the bucket's slot.
    #[inline]
    fn insert(&mut self, amount: u32, e: Entry) -> u32 {
        let line = recent_at(amount);
        let (a, s) = self.recent[line];
        let slot = if s != NO_SLOT && a == amount {
            s
        } else {
            let slot = match self.slot_of.get(&amount) {
                Some(&slot) => slot,
                None => self.new_bucket(amount),
            };
            self.recent[line] = (amount, slot);
            slot
        };
        self.slots[slot as usize].insert(e);
        slot
    }

    /// A slot for the (empty) bucket of a new amount, entered in both maps.
    fn new_bucket(&mut self, amount: u32) -> u32 {
        let slot = self.spare.pop().unwrap_or_else(|| {
            self.slots.push(Bucket::default());
            (self.slots.len() - 1) as u32
        });
        self.by_amount.insert(amount, slot);
        self.slot_of.insert(amount, slot);
        slot
    }

    /// An entry leaves the bucket in `slot` (that of `amount`); `current` tells the bucket's
    /// entries that are still current (see [`Bucket::leave`]).
    #[inline]
    fn remove(&mut self, slot: u32, amount: u32, e: Entry, current: impl Fn(Entry) -> bool) {
        let b = &mut self.slots[slot as usize];
        b.leave(e, current);
        if b.is_empty() {
            self.by_amount.remove(&amount);
            self.slot_of.remove(&amount);
            let line = recent_at(amount);
            if self.recent[line] == (amount, slot) {
                self.recent[line] = (0, NO_SLOT);
            }
            self.spare.push(slot);
        }
    }

    /// The buckets of amounts from `from` on, in ascending order of amount.
    pub(crate) fn range(&self, from: u32) -> impl Iterator<Item = (u32, &Bucket)> + '_ {
        self.range_from(Bound::Included(from))
    }

    /// The buckets of amounts from `from` (included or not) on, in ascending order of amount.
    pub(crate) fn range_from(&self, from: Bound<u32>) -> impl Iterator<Item = (u32, &Bucket)> + '_ {
        self.by_amount
            .range((from, Bound::Unbounded))
            .map(|(&a, &slot)| (a, &self.slots[slot as usize]))
    }

    /// The bucket of one amount.
    #[inline]
    pub(crate) fn get(&self, amount: u32) -> Option<&Bucket> {
        self.recent(amount).or_else(|| {
            self.slot_of
                .get(&amount)
                .map(|&slot| &self.slots[slot as usize])
        })
    }

    /// The bucket of one amount if it is in the cache of recently joined amounts (a miss says
    /// nothing: the amount may have a bucket all the same).
    #[inline]
    pub(crate) fn recent(&self, amount: u32) -> Option<&Bucket> {
        let (a, s) = self.recent[recent_at(amount)];
        (s != NO_SLOT && a == amount).then(|| &self.slots[s as usize])
    }
}

/// Whether `e` is its instance's current entry in a bucket of an index where it would have
/// `cpu` CPU and `mem` memory free: the instance is ACTIVE with those amounts and the token.
#[inline]
fn current(insts: &[Inst], e: Entry, cpu: u32, mem: u32) -> bool {
    let inst = &insts[e.inst() as usize];
    inst.token == e.token()
        && inst.cpu_avail == cpu
        && inst.mem_avail == mem
        && inst.status == InstanceStatus::Active
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Part {
    /// Pool of its instances.
    pub(crate) pool: u32,
    /// AZ value id of its instances.
    pub(crate) az: u32,
    /// ACTIVE instances, in no particular order (for uniform random choice).
    pub(crate) members: Vec<u32>,
    /// By free CPU, then free memory.
    pub(crate) by_cpu: Buckets,
    /// By free memory, then free CPU (kept when `IndexConfig::by_memory`).
    pub(crate) by_mem: Buckets,
}

/// The container instances of one ECS cluster and their indexes.
#[derive(Clone, Debug)]
pub struct Cluster {
    pub(crate) insts: Vec<Inst>,
    pub(crate) keys: Interner,
    pub(crate) values: Interner,
    pub(crate) groups: Interner,
    pub(crate) parts: Vec<Part>,
    part_of_value: BTreeMap<(u32, u32), u32>,
    pub(crate) az_key: u32,
    pub(crate) cfg: IndexConfig,
    tracked_keys: Vec<u32>,
    /// (group, AZ value) -> tasks; kept when `cfg.az_counts`.
    pub(crate) part_counts: BTreeMap<(GroupId, u32), u32>,
    /// (group, key, value) -> tasks for tracked spread attributes.
    pub(crate) value_counts: BTreeMap<(GroupId, u32, u32), u32>,
    rng: Pcg64Mcg,
    /// Draws for the `random` strategy; interior so that `find` stays `&self`.
    pub(crate) random_rng: RefCell<Pcg64Mcg>,
    registered: (u64, u64),
    reserved: (u64, u64),
    in_use: u32,
    /// Registered (cpu, memory) of the instances with at least one task.
    in_use_capacity: (u64, u64),
    /// Changes to anything placement reads (see [`Cluster::changes`]).
    changes: u64,
    /// (group, partition) -> ACTIVE instances of the partition with a task of the group: when it
    /// is every member, a uniform draw among instances without one has nothing to find.
    members_with_group: BTreeMap<(GroupId, u32), u32>,
}

impl Cluster {
    /// An empty cluster. `tie_seed` seeds the tie-breaking tokens.
    pub fn new(cfg: IndexConfig, tie_seed: u64) -> Cluster {
        let mut keys = Interner::default();
        let az_key = keys.intern(AZ_ATTRIBUTE);
        let tracked_keys = cfg
            .spread_attributes
            .iter()
            .filter(|a| a.as_str() != AZ_ATTRIBUTE || !cfg.az_counts)
            .map(|a| keys.intern(a))
            .collect();
        Cluster {
            insts: Vec::new(),
            keys,
            values: Interner::default(),
            groups: Interner::default(),
            parts: Vec::new(),
            part_of_value: BTreeMap::new(),
            az_key,
            cfg,
            tracked_keys,
            part_counts: BTreeMap::new(),
            value_counts: BTreeMap::new(),
            rng: Pcg64Mcg::seed_from_u64(tie_seed),
            random_rng: RefCell::new(Pcg64Mcg::seed_from_u64(tie_seed ^ 0x5241_4E44_4F4D_0001)),
            registered: (0, 0),
            reserved: (0, 0),
            in_use: 0,
            in_use_capacity: (0, 0),
            changes: 0,
            members_with_group: BTreeMap::new(),
        }
    }

    /// The id of a task group, interning the name.
    pub fn group(&mut self, name: &str) -> GroupId {
        GroupId(self.groups.intern(name))
    }

    /// The name of a task group.
    pub fn group_name(&self, g: GroupId) -> &str {
        self.groups.name(g.0)
    }

    /// Add an instance in status `Registering`; it takes tasks once set `Active`.
    pub fn add_instance(&mut self, spec: InstanceSpec) -> InstanceId {
        self.changes += 1;
        let id = self.insts.len() as u32;
        let mut attrs: Vec<(u32, u32)> = spec
            .attributes
            .iter()
            .map(|(k, v)| (self.keys.intern(k), self.values.intern(v)))
            .collect();
        attrs.sort_unstable();
        attrs.dedup_by_key(|a| a.0);
        let az = attrs
            .binary_search_by_key(&self.az_key, |&(k, _)| k)
            .map_or(NO_VALUE, |i| attrs[i].1);
        let next_part = self.parts.len() as u32;
        let part = *self
            .part_of_value
            .entry((spec.pool, az))
            .or_insert(next_part);
        if part == next_part {
            self.parts.push(Part {
                pool: spec.pool,
                az,
                ..Part::default()
            });
        }
        let mut ports: Vec<HostPort> = AGENT_RESERVED_TCP_PORTS
            .iter()
            .map(|&p| host_port(p, false))
            .collect();
        ports.sort_unstable();
        let token = self.draw_token(id);
        self.insts.push(Inst {
            ec2_id: spec.ec2_instance_id,
            agent_version: spec.agent_version,
            cpu_total: spec.cpu_units,
            mem_total: spec.memory_mib,
            eni_total: spec.eni_tasks,
            cpu_avail: spec.cpu_units,
            mem_avail: spec.memory_mib,
            eni_avail: spec.eni_tasks,
            ports,
            attrs,
            groups: smallvec::SmallVec::new(),
            running: 0,
            status: InstanceStatus::Registering,
            agent_connected: true,
            registered_at_ms: 0,
            token,
            part,
            pool: spec.pool,
            az,
            member_pos: u32::MAX,
            cpu_slot: u32::MAX,
            mem_slot: u32::MAX,
        });
        InstanceId(id)
    }

    fn draw_token(&mut self, id: u32) -> u64 {
        match self.cfg.tie_break {
            TieBreak::Random => self.rng.next_u64(),
            TieBreak::LowestIndex => u64::from(id),
        }
    }

    fn indexed(&self, i: u32) -> bool {
        let inst = &self.insts[i as usize];
        inst.status == InstanceStatus::Active
    }

    fn unindex(&mut self, i: u32) {
        if !self.indexed(i) {
            return;
        }
        let insts = &self.insts;
        let inst = &insts[i as usize];
        let (cpu, mem, token) = (inst.cpu_avail, inst.mem_avail, inst.token);
        let part = &mut self.parts[inst.part as usize];
        part.by_cpu
            .remove(inst.cpu_slot, cpu, Entry::new(mem, token, i), |e| {
                current(insts, e, cpu, e.other())
            });
        if self.cfg.by_memory {
            part.by_mem
                .remove(inst.mem_slot, mem, Entry::new(cpu, token, i), |e| {
                    current(insts, e, e.other(), mem)
                });
        }
    }

    fn index(&mut self, i: u32) {
        if !self.indexed(i) {
            return;
        }
        let token = self.draw_token(i);
        let inst = &mut self.insts[i as usize];
        inst.token = token;
        let part = &mut self.parts[inst.part as usize];
        inst.cpu_slot = part
            .by_cpu
            .insert(inst.cpu_avail, Entry::new(inst.mem_avail, token, i));
        if self.cfg.by_memory {
            inst.mem_slot = part
                .by_mem
                .insert(inst.mem_avail, Entry::new(inst.cpu_avail, token, i));
        }
    }

    /// Whether `e`, found in the bucket of `free` CPU (in the CPU index) or `free` memory (in
    /// the memory index), is its instance's current entry there: buckets keep entries that left
    /// them for a while (see [`Bucket`]), and walks skip them.
    #[inline]
    pub(crate) fn is_current(&self, field: BinpackField, free: u32, e: Entry) -> bool {
        match field {
            BinpackField::Cpu => current(&self.insts, e, free, e.other()),
            BinpackField::Memory => current(&self.insts, e, e.other(), free),
        }
    }

    fn counts_registered(s: InstanceStatus) -> bool {
        matches!(s, InstanceStatus::Active | InstanceStatus::Draining)
    }

    /// Change an instance's status. `at_ms` is recorded as `registeredAt` when it first becomes
    /// `Active`. A `Deregistered` instance must hold no tasks.
    pub fn set_status(&mut self, id: InstanceId, status: InstanceStatus, at_ms: u64) {
        self.changes += 1;
        let i = id.0;
        self.unindex(i);
        let inst = &mut self.insts[i as usize];
        let was = inst.status;
        assert!(
            status != InstanceStatus::Deregistered || inst.running == 0,
            "deregistering {} with {} tasks",
            inst.ec2_id,
            inst.running
        );
        if was == InstanceStatus::Registering && status == InstanceStatus::Active {
            inst.registered_at_ms = at_ms;
        }
        inst.status = status;
        let part = inst.part as usize;
        if (was == InstanceStatus::Active) != (status == InstanceStatus::Active) {
            let add = status == InstanceStatus::Active;
            for k in 0..self.insts[i as usize].groups.len() {
                let g = self.insts[i as usize].groups[k].0;
                self.count_member_with_group(g, part as u32, add);
            }
        }
        let inst = &mut self.insts[i as usize];
        if was != InstanceStatus::Active && status == InstanceStatus::Active {
            inst.member_pos = self.parts[part].members.len() as u32;
            self.parts[part].members.push(i);
        } else if was == InstanceStatus::Active && status != InstanceStatus::Active {
            let pos = inst.member_pos as usize;
            inst.member_pos = u32::MAX;
            let members = &mut self.parts[part].members;
            members.swap_remove(pos);
            if let Some(&moved) = members.get(pos) {
                self.insts[moved as usize].member_pos = pos as u32;
            }
        }
        let inst = &self.insts[i as usize];
        let (cpu, mem) = (u64::from(inst.cpu_total), u64::from(inst.mem_total));
        let (rcpu, rmem) = (
            u64::from(inst.cpu_total - inst.cpu_avail),
            u64::from(inst.mem_total - inst.mem_avail),
        );
        match (
            Self::counts_registered(was),
            Self::counts_registered(status),
        ) {
            (false, true) => {
                self.registered.0 += cpu;
                self.registered.1 += mem;
                self.reserved.0 += rcpu;
                self.reserved.1 += rmem;
            }
            (true, false) => {
                self.registered.0 -= cpu;
                self.registered.1 -= mem;
                self.reserved.0 -= rcpu;
                self.reserved.1 -= rmem;
            }
            _ => {}
        }
        self.index(i);
    }

    /// How many times the instances changed (added, status, agent, tasks placed or released):
    /// while it stays the same, [`Cluster::find`] and [`Cluster::diagnose`] give the same answer
    /// to the same request (a failed search stays failed), so a caller may keep the answer.
    pub fn changes(&self) -> u64 {
        self.changes
    }

    /// Connect or disconnect an instance's agent (a disconnected agent takes no tasks).
    pub fn set_agent_connected(&mut self, id: InstanceId, connected: bool) {
        self.changes += 1;
        self.insts[id.0 as usize].agent_connected = connected;
    }

    /// Reserve a task's resources on an instance. Panics if they do not fit: placement said they
    /// would, so a failure here is a bug.
    pub fn allocate(&mut self, id: InstanceId, req: &TaskRequest<'_>) {
        self.changes += 1;
        if let Err(stage) = self.fits_resources(id.0, req) {
            panic!(
                "allocate on {}: {:?} does not fit",
                self.insts[id.0 as usize].ec2_id, stage
            );
        }
        self.unindex(id.0);
        let inst = &mut self.insts[id.0 as usize];
        inst.cpu_avail -= req.cpu_units;
        inst.mem_avail -= req.memory_mib;
        if req.needs_eni {
            inst.eni_avail -= 1;
        }
        for &p in req.instance_ports() {
            let at = inst.ports.binary_search(&p).expect_err("port checked free");
            inst.ports.insert(at, p);
        }
        inst.running += 1;
        if inst.running == 1 {
            self.in_use += 1;
            self.in_use_capacity.0 += u64::from(inst.cpu_total);
            self.in_use_capacity.1 += u64::from(inst.mem_total);
        }
        let first_of_group = match inst.groups.binary_search_by_key(&req.group, |&(k, _)| k) {
            Ok(at) => {
                inst.groups[at].1 += 1;
                false
            }
            Err(at) => {
                inst.groups.insert(at, (req.group, 1));
                true
            }
        };
        if first_of_group && inst.status == InstanceStatus::Active {
            let part = inst.part;
            self.count_member_with_group(req.group, part, true);
        }
        let inst = &mut self.insts[id.0 as usize];
        if Self::counts_registered(inst.status) {
            self.reserved.0 += u64::from(req.cpu_units);
            self.reserved.1 += u64::from(req.memory_mib);
        }
        self.count_group(id.0, req.group, true);
        self.index(id.0);
    }

    /// The memory a [`Cluster::release`] or a reserve on `id` reads first, as `f(start, bytes)`
    /// calls, for a caller that prefetches it: the instance's record (with its group counts,
    /// unless it has more groups than the record holds).
    pub fn hot_memory(&self, id: InstanceId, mut f: impl FnMut(*const u8, usize)) {
        let Some(inst) = self.insts.get(id.0 as usize) else {
            return;
        };
        f((inst as *const Inst).cast(), size_of::<Inst>());
    }

    /// Return a task's resources to its instance.
    pub fn release(&mut self, id: InstanceId, req: &TaskRequest<'_>) {
        self.changes += 1;
        self.unindex(id.0);
        let inst = &mut self.insts[id.0 as usize];
        inst.cpu_avail += req.cpu_units;
        inst.mem_avail += req.memory_mib;
        assert!(
            inst.cpu_avail <= inst.cpu_total && inst.mem_avail <= inst.mem_total,
            "release more than reserved"
        );
        if req.needs_eni {
            inst.eni_avail += 1;
        }
        for p in req.instance_ports() {
            let at = inst
                .ports
                .binary_search(p)
                .expect("released port was reserved");
            inst.ports.remove(at);
        }
        inst.running -= 1;
        if inst.running == 0 {
            self.in_use -= 1;
            self.in_use_capacity.0 -= u64::from(inst.cpu_total);
            self.in_use_capacity.1 -= u64::from(inst.mem_total);
        }
        let at = inst
            .groups
            .binary_search_by_key(&req.group, |&(k, _)| k)
            .expect("group present");
        inst.groups[at].1 -= 1;
        if inst.groups[at].1 == 0 {
            inst.groups.remove(at);
            if inst.status == InstanceStatus::Active {
                let part = inst.part;
                self.count_member_with_group(req.group, part, false);
            }
        }
        let inst = &mut self.insts[id.0 as usize];
        if Self::counts_registered(inst.status) {
            self.reserved.0 -= u64::from(req.cpu_units);
            self.reserved.1 -= u64::from(req.memory_mib);
        }
        self.count_group(id.0, req.group, false);
        self.index(id.0);
    }

    fn count_member_with_group(&mut self, g: GroupId, part: u32, add: bool) {
        if add {
            *self.members_with_group.entry((g, part)).or_insert(0) += 1;
        } else if let Some(c) = self.members_with_group.get_mut(&(g, part)) {
            *c -= 1;
            if *c == 0 {
                self.members_with_group.remove(&(g, part));
            }
        }
    }

    /// Whether every ACTIVE instance of a partition has a task of the group.
    pub(crate) fn every_member_has_group(&self, part: u32, g: GroupId) -> bool {
        let members = self.parts[part as usize].members.len() as u32;
        self.members_with_group
            .get(&(g, part))
            .copied()
            .unwrap_or(0)
            >= members
    }

    #[inline]
    fn count_group(&mut self, i: u32, g: GroupId, add: bool) {
        if self.cfg.az_counts || !self.tracked_keys.is_empty() {
            self.count_group_values(i, g, add);
        }
    }

    fn count_group_values(&mut self, i: u32, g: GroupId, add: bool) {
        fn bump<K: Ord>(m: &mut BTreeMap<K, u32>, k: K, add: bool) {
            if add {
                *m.entry(k).or_insert(0) += 1;
            } else if let Some(c) = m.get_mut(&k) {
                *c -= 1;
                if *c == 0 {
                    m.remove(&k);
                }
            }
        }
        if self.cfg.az_counts {
            let az = self.insts[i as usize].az;
            bump(&mut self.part_counts, (g, az), add);
        }
        for ki in 0..self.tracked_keys.len() {
            let k = self.tracked_keys[ki];
            let v = self.insts[i as usize].attr(k);
            bump(&mut self.value_counts, (g, k, v), add);
        }
    }

    /// Resource filter for one instance: the first failing check, in pipeline order.
    #[inline]
    pub(crate) fn fits_resources(
        &self,
        i: u32,
        req: &TaskRequest<'_>,
    ) -> Result<(), PlacementFailure> {
        let inst = &self.insts[i as usize];
        if !inst.agent_connected {
            return Err(PlacementFailure::Agent);
        }
        if inst.cpu_avail < req.cpu_units {
            return Err(PlacementFailure::Cpu);
        }
        if inst.mem_avail < req.memory_mib {
            return Err(PlacementFailure::Memory);
        }
        let ports = req.instance_ports();
        if !ports.is_empty()
            && (inst.ports.len() + ports.len() > MAX_RESERVED_HOST_PORTS
                || ports.iter().any(|p| inst.ports.binary_search(p).is_ok()))
        {
            return Err(PlacementFailure::Ports);
        }
        if req.needs_eni && inst.eni_avail == 0 {
            return Err(PlacementFailure::Eni);
        }
        Ok(())
    }

    /// The whole filter (resources, then constraints) for one instance.
    #[inline]
    pub(crate) fn feasible(&self, i: u32, req: &TaskRequest<'_>) -> Result<(), PlacementFailure> {
        if req.pool.is_some_and(|p| p != self.insts[i as usize].pool) {
            return Err(PlacementFailure::NoContainerInstances);
        }
        self.fits_resources(i, req)?;
        for c in req.constraints {
            match c {
                Constraint::DistinctInstance => {
                    if self.insts[i as usize].group_count(req.group) > 0 {
                        return Err(PlacementFailure::DistinctInstance);
                    }
                }
                Constraint::MemberOf(e) => {
                    if !e.eval(&self.facts(InstanceId(i))) {
                        return Err(PlacementFailure::MemberOf);
                    }
                }
            }
        }
        Ok(())
    }

    /// The facts the query language sees for an instance.
    pub fn facts(&self, id: InstanceId) -> impl Facts + '_ {
        InstanceFacts {
            c: self,
            i: &self.insts[id.0 as usize],
        }
    }

    /// Number of instances ever added.
    pub fn len(&self) -> usize {
        self.insts.len()
    }

    /// Whether no instance was ever added.
    pub fn is_empty(&self) -> bool {
        self.insts.is_empty()
    }

    /// An instance's status.
    pub fn status(&self, id: InstanceId) -> InstanceStatus {
        self.insts[id.0 as usize].status
    }

    /// Free (cpu units, memory MiB, ENI slots) on an instance.
    pub fn available(&self, id: InstanceId) -> (u32, u32, u32) {
        let i = &self.insts[id.0 as usize];
        (i.cpu_avail, i.mem_avail, i.eni_avail)
    }

    /// Registered (cpu units, memory MiB, ENI slots) of an instance.
    pub fn registered(&self, id: InstanceId) -> (u32, u32, u32) {
        let i = &self.insts[id.0 as usize];
        (i.cpu_total, i.mem_total, i.eni_total)
    }

    /// Static host ports reserved on an instance, agent's included.
    pub fn ports(&self, id: InstanceId) -> &[HostPort] {
        &self.insts[id.0 as usize].ports
    }

    /// Tasks on an instance.
    pub fn running_tasks(&self, id: InstanceId) -> u32 {
        self.insts[id.0 as usize].running
    }

    /// Tasks of a group on an instance.
    pub fn group_count(&self, id: InstanceId, g: GroupId) -> u32 {
        self.insts[id.0 as usize].group_count(g)
    }

    /// The value of an attribute on an instance.
    pub fn attribute(&self, id: InstanceId, name: &str) -> Option<&str> {
        let k = self.keys.get(name)?;
        let v = self.insts[id.0 as usize].attr(k);
        (v != NO_VALUE).then(|| self.values.name(v))
    }

    /// Instances running at least one task.
    pub fn instances_in_use(&self) -> u32 {
        self.in_use
    }

    /// Total (cpu units, memory MiB) of the instances running at least one task: with the
    /// reserved totals, the capacity stranded on instances that cannot be turned off.
    pub fn in_use_capacity(&self) -> (u64, u64) {
        self.in_use_capacity
    }

    /// Sums over ACTIVE and DRAINING instances: (registered cpu, registered memory, reserved cpu,
    /// reserved memory), the denominators and numerators of ECS's `CPUReservation` and
    /// `MemoryReservation` (ECS-DG `cloudwatch-metrics.html`).
    pub fn reservation_totals(&self) -> (u64, u64, u64, u64) {
        (
            self.registered.0,
            self.registered.1,
            self.reserved.0,
            self.reserved.1,
        )
    }
}

struct InstanceFacts<'a> {
    c: &'a Cluster,
    i: &'a Inst,
}

impl Facts for InstanceFacts<'_> {
    fn attribute(&self, name: &str) -> Option<&str> {
        let k = self.c.keys.get(name)?;
        let v = self.i.attr(k);
        (v != NO_VALUE).then(|| self.c.values.name(v))
    }
    fn ec2_instance_id(&self) -> &str {
        &self.i.ec2_id
    }
    fn agent_connected(&self) -> bool {
        self.i.agent_connected
    }
    fn agent_version(&self) -> &str {
        &self.i.agent_version
    }
    fn registered_at_ms(&self) -> u64 {
        self.i.registered_at_ms
    }
    fn running_tasks_count(&self) -> u32 {
        self.i.running
    }
    fn any_group(&self, f: &mut dyn FnMut(&str) -> bool) -> bool {
        self.i
            .groups
            .iter()
            .any(|&(g, _)| f(self.c.groups.name(g.0)))
    }
}

impl Cluster {
    /// The whole filter (resources, then constraints) for one given instance, as a daemon
    /// service uses it. An instance that is not ACTIVE fails with `NoContainerInstances`.
    pub fn check(&self, id: InstanceId, req: &TaskRequest<'_>) -> Result<(), PlacementFailure> {
        if self.insts[id.0 as usize].status != InstanceStatus::Active {
            return Err(PlacementFailure::NoContainerInstances);
        }
        self.feasible(id.0, req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `members_with_group` against a count from scratch, through placements, releases and
    /// status changes in two partitions (AZs).
    #[test]
    fn members_with_group_follows_tasks_and_status() {
        let mut c = Cluster::new(IndexConfig::default(), 5);
        let ids: Vec<InstanceId> = (0..6)
            .map(|n| {
                c.add_instance(InstanceSpec {
                    ec2_instance_id: format!("i-{n}"),
                    cpu_units: 4096,
                    memory_mib: 8192,
                    eni_tasks: 2,
                    attributes: vec![(AZ_ATTRIBUTE.into(), format!("az{}", n % 2))],
                    agent_version: "1.90.0".into(),
                    pool: 0,
                })
            })
            .collect();
        let groups = [c.group("a"), c.group("b")];
        let req = |g| TaskRequest {
            cpu_units: 256,
            memory_mib: 256,
            host_ports: &[],
            needs_eni: false,
            group: g,
            constraints: &[],
            strategy: &[],
            pool: None,
        };
        let check = |c: &Cluster| {
            for p in 0..c.parts.len() as u32 {
                for &g in &groups {
                    let holding = c.parts[p as usize]
                        .members
                        .iter()
                        .filter(|&&i| c.insts[i as usize].group_count(g) > 0)
                        .count() as u32;
                    let kept = c.members_with_group.get(&(g, p)).copied().unwrap_or(0);
                    assert_eq!(kept, holding, "group {g:?} partition {p}");
                    let all = holding == c.parts[p as usize].members.len() as u32;
                    assert_eq!(c.every_member_has_group(p, g), all);
                }
            }
        };
        let mut placed: Vec<(InstanceId, GroupId)> = Vec::new();
        let mut x: u64 = 1;
        for step in 0..400 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let r = (x >> 33) as usize;
            let id = ids[r % ids.len()];
            match (r / 7) % 4 {
                0 | 1 if c.status(id) != InstanceStatus::Deregistered => {
                    let g = groups[(r / 3) % 2];
                    if c.check(id, &req(g)).is_ok() {
                        c.allocate(id, &req(g));
                        placed.push((id, g));
                    }
                }
                2 if !placed.is_empty() => {
                    let (id, g) = placed.swap_remove(r % placed.len());
                    c.release(id, &req(g));
                }
                _ => {
                    let to = [
                        InstanceStatus::Active,
                        InstanceStatus::Draining,
                        InstanceStatus::Active,
                    ][(r / 11) % 3];
                    if c.status(id) != InstanceStatus::Deregistered {
                        c.set_status(id, to, step);
                    }
                }
            }
            check(&c);
        }
    }
}
