/**
 * Which module API names the fake accepts (contract §1). Names are case-sensitive, as
 * Zoho's API names are.
 */

/** The standard modules that take attachments. */
const STANDARD_MODULES = new Set([
  'Leads',
  'Accounts',
  'Contacts',
  'Deals',
  'Campaigns',
  'Tasks',
  'Cases',
  'Events',
  'Calls',
  'Solutions',
  'Products',
  'Vendors',
  'Price_Books',
  'Quotes',
  'Sales_Orders',
  'Purchase_Orders',
  'Invoices',
  'Notes',
  'Appointments',
  'Services',
]);

/** Modules that exist in Zoho but that the API does not serve (the seed page's examples). */
const UNSUPPORTED_MODULES = new Set(['Documents', 'Projects']);

/**
 * Custom modules: Zoho's generated names (`CustomModule7`) and the names orgs give them,
 * which carry an underscore (`Shipments_X`, `Site_Visits`).
 */
const CUSTOM_MODULE_PATTERNS = [/^CustomModule\d+$/, /^[A-Z][A-Za-z0-9]*_[A-Za-z0-9_]+$/];

/** How a module API name fares. */
export type ModuleVerdict = 'supported' | 'unsupported' | 'unknown';

/** Judges module names for one fake (its `customModules` option adds names). */
export class ModuleCatalog {
  private readonly extraModules: ReadonlySet<string>;

  constructor(customModules: readonly string[]) {
    this.extraModules = new Set(customModules);
  }

  /** `supported`, `unsupported` (exists, not in the API) or `unknown`. */
  verdict(module: string): ModuleVerdict {
    if (UNSUPPORTED_MODULES.has(module)) return 'unsupported';
    if (STANDARD_MODULES.has(module) || this.extraModules.has(module)) return 'supported';
    return CUSTOM_MODULE_PATTERNS.some((pattern) => pattern.test(module)) ? 'supported' : 'unknown';
  }
}
