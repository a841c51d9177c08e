// The customer list's current filter, shared so Import / Export can export
// exactly what the list shows.
import type { CustomerQuery } from '../bindings/CustomerQuery';

export const customerFilter = $state({ query: null as Partial<CustomerQuery> | null, active: false });
