# kube/lib.sh - offline Kubernetes helpers for the tests (sourced).
#
#   kube_offline_config FILE   a kubeconfig whose server is nowhere: any
#                              command that needs an API server fails, so
#                              what works with it works offline
kube_offline_config() {
	cat >"$1" <<'KCFG'
apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: none, user: {token: none}}]
contexts: [{name: none, context: {cluster: none, user: none}}]
current-context: none
KCFG
}
