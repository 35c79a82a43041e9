/** The Briefcase's version; its own module so `briefcase --version` need not load the daemon. */
export const VERSION = '0.1.0';
