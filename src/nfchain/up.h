/* up.h - the deployment commands of nfchain (up.c). */
#ifndef NC_UP_H
#define NC_UP_H
/* nfchain up [-d] [-n] [--run-dir D] [--timeout MS] FILE */
int nc_cmd_up(int argc, char **argv);
/* nfchain status|down|scale|apply|logs [--name N] [--run-dir D] [--json] ... */
int nc_cmd_deploy(int argc, char **argv);
/* Print the file @path, under "==> title <==" if @title. */
int nc_cat(const char *path, const char *title);
#endif
