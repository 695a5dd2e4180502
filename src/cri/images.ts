/** Names of the local images built by scripts/images/build.sh (no registry is involved). */

/** The sandbox (infra) image: a static pause program that exits promptly on SIGTERM and reaps zombies. */
export const PAUSE_IMAGE = 'localhost/nodelet/pause:3.9';

/** A busybox-static based test image (sh, httpd, nc, wget, sleep, …; users root, app 1000, nobody 65534). */
export const TESTBOX_IMAGE = 'localhost/nodelet/testbox:1.0';
