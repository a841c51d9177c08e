// Commands of the segment rules and alert thresholds
// (src-tauri/src/commands/analysis.rs, followups.rs). Same contract as
// `api`: failures throw a UiError.

import { call } from './index';
import type { Badge } from '../bindings/Badge';
import type { SegmentRules } from '../bindings/SegmentRules';
import type { Thresholds } from '../bindings/Thresholds';

export const rules = {
  /** The segments a customer is in, with their recommended actions. */
  customerSegments: (id: string) => call<Badge[]>('customer_segments', { id }),
  segmentsGet: () => call<SegmentRules>('segment_rules_get'),
  segmentsSet: (rules: SegmentRules) => call<SegmentRules>('segment_rules_set', { rules }),
  alertsGet: () => call<Thresholds>('alert_thresholds_get'),
  alertsSet: (thresholds: Thresholds) => call<Thresholds>('alert_thresholds_set', { thresholds }),
};
