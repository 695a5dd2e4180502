// Placeholder entry point; the daemon issue fills it in.
console.error('nodelet: not implemented yet');
process.exitCode = 1;
