//! Which X-EXTERNAL-IDs each partner has used today (Asia/Jakarta's day,
//! as SNAP counts it). In-process memory, bounded.

use std::collections::{HashMap, HashSet};

/// Beyond this many ids in one day the memory starts the day over rather
/// than grow without bound (a flood of forged-but-valid ids is a partner's
/// compromise, not something a merchant process should absorb).
pub const MAX_IDS_PER_DAY: usize = 1_000_000;

#[derive(Default)]
pub struct ReplayMemory {
    day: i64,
    seen: HashMap<String, HashSet<String>>,
    count: usize,
}

/// Days since the epoch in UTC+7.
pub fn jakarta_day(unix_s: i64) -> i64 {
    (unix_s + 7 * 3600).div_euclid(86_400)
}

impl ReplayMemory {
    /// Records `external_id` for `partner` on the day of `now`; false when
    /// it was already used that day.
    pub fn use_once(&mut self, partner: &str, external_id: &str, now: i64) -> bool {
        let day = jakarta_day(now);
        if day != self.day || self.count >= MAX_IDS_PER_DAY {
            // A new day: yesterday's ids may be used again.
            self.seen.clear();
            self.count = 0;
            self.day = day;
        }
        let fresh = self
            .seen
            .entry(partner.to_string())
            .or_default()
            .insert(external_id.to_string());
        if fresh {
            self.count += 1;
        }
        fresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_used_once_per_partner_per_jakarta_day() {
        let mut m = ReplayMemory::default();
        // 2024-03-01 16:59:59 UTC = 23:59:59 in Jakarta.
        let late = 1_709_312_399;
        assert!(m.use_once("A", "1", late));
        assert!(!m.use_once("A", "1", late));
        assert!(m.use_once("B", "1", late), "another partner's id space");
        assert!(!m.use_once("A", "1", late - 3600), "earlier the same day");
        assert!(
            m.use_once("A", "1", late + 1),
            "midnight in Jakarta: a new day"
        );
    }
}
