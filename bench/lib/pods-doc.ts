/** The header of the `pods` section of docs/benchmarks.md (shared by bench/pod-startup.ts and bench/pod-density.ts). */
export const PODS_HEADER = `## Pods (bench/pod-startup.ts, bench/pod-density.ts)

Both run nodelet (\`dist/nodelet.mjs\`, \`--roles=kubelet\`, default KubeletConfiguration) as a child process against
the in-process test API server and a PRIVATE dockerd (own socket, data root, exec root and bridge, the local images
loaded into it); times are seen through a WATCH on the API. Run: \`npm run bench -- pod-\` (or \`tsx bench/pod-startup.ts\`,
\`tsx bench/pod-density.ts\`), as root.`;
