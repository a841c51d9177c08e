// Labels of the core's enums in the current language.
import { t } from './app.svelte';
import type { Grade } from './bindings/Grade';
import type { Role } from './bindings/Role';
import type { Status } from './bindings/Status';

export const STATUSES: Status[] = ['prospect', 'interested', 'won', 'lost'];
export const GRADES: Grade[] = ['A', 'B', 'C'];
export const ROLES: Role[] = ['rep', 'manager', 'analyst', 'admin'];

export const statusLabel = (s: Status) => t(`status.${s}`);
export const gradeLabel = (g: Grade) => t(`grade.${g}`);
export const roleLabel = (r: Role) => t(`role.${r}`);
