/* capture.h - nfchain capture (capture.c). */
#ifndef NC_CAPTURE_H
#define NC_CAPTURE_H
/* nfchain capture [--ctl PATH | --name NAME [--run-dir DIR]] [-f FILTER]
 * [-c COUNT] [-d SECONDS] [-s SNAPLEN] [--rx|--tx] [--pcapng] -w FILE|- TARGET...
 * Returns the exit status: 0 done, 1 failed, 2 usage error. */
int nc_cmd_capture(int argc, char **argv);
#endif
