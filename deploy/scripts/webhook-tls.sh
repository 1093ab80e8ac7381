#!/usr/bin/env bash
# TLS for the vouch webhook without cert-manager: makes a private CA and a serving certificate
# for the webhook Service, stores them in the Secret the Deployment mounts, and writes the CA
# into both webhook configurations' caBundle. Re-run it to rotate (then restart the Deployment:
# kubectl -n NAMESPACE rollout restart deployment/NAME).
#
#   deploy/scripts/webhook-tls.sh [--namespace vouch-system] [--name vouch-webhook] [--days 365] [--print-ca-bundle]
#
# --print-ca-bundle only prints the base64 CA bundle (for Helm: --set webhook.caBundle=...)
# after creating the Secret, and patches nothing. Needs openssl and kubectl.
set -euo pipefail
ns=vouch-system
name=vouch-webhook
days=365
print_only=false
while [ $# -gt 0 ]; do
  case "$1" in
    --namespace) ns=$2; shift 2 ;;
    --name) name=$2; shift 2 ;;
    --days) days=$2; shift 2 ;;
    --print-ca-bundle) print_only=true; shift ;;
    *) echo "webhook-tls: unknown argument $1" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
svc="$name.$ns.svc"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days "$days" \
  -subj "/CN=$name webhook CA" -keyout "$work/ca.key" -out "$work/ca.crt" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -subj "/CN=$svc" -keyout "$work/tls.key" -out "$work/tls.csr" 2>/dev/null
printf 'subjectAltName=DNS:%s,DNS:%s.cluster.local\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\nbasicConstraints=critical,CA:FALSE\n' "$svc" "$svc" > "$work/ext.cnf"
openssl x509 -req -in "$work/tls.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -CAcreateserial \
  -days "$days" -extfile "$work/ext.cnf" -out "$work/tls.crt" 2>/dev/null

kubectl get namespace "$ns" >/dev/null 2>&1 || kubectl create namespace "$ns"
kubectl -n "$ns" create secret tls "$name-tls" --cert="$work/tls.crt" --key="$work/tls.key" \
  --dry-run=client -o yaml | kubectl apply -f - >/dev/null
bundle=$(base64 < "$work/ca.crt" | tr -d '\n')
if [ "$print_only" = true ]; then
  echo "$bundle"
  exit 0
fi
for kind in mutatingwebhookconfiguration validatingwebhookconfiguration; do
  count=$(kubectl get "$kind" "$name" -o jsonpath='{range .webhooks[*]}x{end}')
  ops=""
  for i in $(seq 0 $((${#count} - 1))); do
    ops="$ops{\"op\":\"add\",\"path\":\"/webhooks/$i/clientConfig/caBundle\",\"value\":\"$bundle\"},"
  done
  kubectl patch "$kind" "$name" --type=json -p "[${ops%,}]" >/dev/null
  echo "webhook-tls: CA bundle written to $kind/$name"
done
echo "webhook-tls: Secret $ns/$name-tls holds the serving certificate for $svc (valid $days days)"
