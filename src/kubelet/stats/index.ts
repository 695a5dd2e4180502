export { createStatsHandler, type StatsHandlerDeps, type StatsService } from './handler.js';
export { createHostStatsFs, type StatsFs, type FsUsage, type DirUsage } from './fs.js';
export { FakeStatsFs } from './fake.js';
export { buildSummary, type Summary, type PodStats, type NodeStats, type ContainerStats } from './summary.js';
export { detectCgroupLayout, type CgroupLayout } from './cgroup.js';
