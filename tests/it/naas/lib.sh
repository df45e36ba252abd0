# naas/lib.sh - what the naas_*.sh tests share: naas_init NAME sets C, G
# (the programs), R (the deployment's run directory), S (its memif socket)
# and the cleanup that takes deployment NAME down; sanitizer reports go to
# files (no_san at the end checks them).
naas_init() {
	C="$BIN/nfchain"
	G="$BIN/nf-gen"
	export NFCHAIN_RUN_DIR=$T/run
	san_to_files
	R=$T/run/$1
	S=$R/memif.sock
	cleanup "'$C' down --name $1"
}
