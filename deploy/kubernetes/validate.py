#!/usr/bin/env python3
"""validate.py - check Kubernetes objects offline, without an API server.

    validate.py [--crd CRD] FILE...

FILE: JSON objects as kubectl prints them (`kubectl label --local -f X
nfchain.io/none- -o json`: kubectl's own YAML reading, no server needed),
or YAML. Prints "FILE: KIND/NAME: PATH: reason" for each problem; exit 0
when there is none, 1 otherwise, 2 on a usage error.

What is checked:
* built-in kinds (core, apps, rbac, apiextensions...): every field against
  the Kubernetes API's types as Debian's python3-kubernetes carries them
  (its models are generated from the API's OpenAPI document, release
  1.22): unknown fields, JSON types (string, integer, boolean, list, map,
  nested object) and required fields, recursively;
* a CustomResourceDefinition also against the rules the API server applies
  to a structural schema (below);
* a ServiceChain against the openAPIV3Schema of the CRD given with --crd
  (or met among the FILEs), as the API server validates it with strict
  field validation: types, enums, ranges, patterns, lengths, required
  keys, unknown keys (a structural schema prunes them; strict validation,
  kubectl 1.25+'s default, refuses them), list-type set;
* a NetworkAttachmentDefinition's spec.config is a JSON CNI configuration
  whose plugins have a type.
Not checked: CEL rules, admission (quotas, pod security), references
between objects.
"""
import inspect
import json
import re
import sys

import jsonschema
import yaml

try:
	from kubernetes.client import models as K
except ImportError:
	K = None

errors = []


def err(where, path, msg):
	errors.append("%s: %s: %s" % (where, path or "(top)", msg))


# --- built-in kinds, from the python client's models -----------------------

_required = {}


def required_of(cls):
	if cls not in _required:
		src = inspect.getsource(cls)
		attrs = re.findall(r"Invalid value for `(\w+)`, must not be `None`", src)
		_required[cls] = sorted({cls.attribute_map[a] for a in attrs if a in cls.attribute_map})
	return _required[cls]


def is_quantity_map(path):
	return re.search(r"\.(limits|requests|capacity|hard|allocatable)$", path) is not None


def check_type(where, path, v, t):
	if t == "object":
		return
	m = re.match(r"list\[(.*)\]$", t)
	if m:
		if not isinstance(v, list):
			return err(where, path, "expected a list")
		for i, x in enumerate(v):
			check_type(where, "%s[%d]" % (path, i), x, m.group(1))
		return
	m = re.match(r"dict\(str, (.*)\)$", t)
	if m:
		if not isinstance(v, dict):
			return err(where, path, "expected a map")
		for k, x in v.items():
			if m.group(1) == "str" and is_quantity_map(path) and isinstance(x, (int, float)):
				continue
			check_type(where, "%s.%s" % (path, k), x, m.group(1))
		return
	simple = {"str": str, "int": int, "bool": bool, "float": (int, float),
		  "datetime": str, "date": str}
	if t in simple:
		ok = isinstance(v, simple[t]) and not (t in ("int", "float") and isinstance(v, bool))
		if not ok:
			err(where, path, "expected %s, got %s" % (
				{"str": "a string", "int": "an integer", "bool": "true or false",
				 "float": "a number"}.get(t, t), json.dumps(v)[:40]))
		return
	cls = getattr(K, t, None)
	if cls is None:
		return err(where, path, "no model %s (python3-kubernetes)" % t)
	if not isinstance(v, dict):
		return err(where, path, "expected an object (%s)" % t[2:] if t.startswith("V") else t)
	if t == "V1JSONSchemaProps":
		return		# checked as a structural schema below
	names = {j: a for a, j in cls.attribute_map.items()}
	for k, x in v.items():
		if k not in names:
			err(where, "%s.%s" % (path, k) if path else k, "unknown field (%s has %s)" % (
				t, ", ".join(sorted(names))[:200]))
			continue
		check_type(where, "%s.%s" % (path, k) if path else k, x, cls.openapi_types[names[k]])
	for r in required_of(cls):
		if r not in v:
			err(where, path, "'%s' is required" % r)


def model_name(obj):
	api = obj.get("apiVersion", "")
	group, _, ver = api.rpartition("/")
	kind = obj.get("kind", "")
	return ver[:1].upper() + ver[1:] + kind


# --- CRD schemas -------------------------------------------------------------

INT_OR_STRING = [{"type": "integer"}, {"type": "string"}]
JUNCTORS = ("allOf", "anyOf", "oneOf", "not")


def structural(where, s, path, root=False, in_junctor=False):
	"""The structural schema rules of apiextensions.k8s.io/v1 (those a
	hand-written schema can break)."""
	if not isinstance(s, dict):
		return err(where, path, "a schema must be an object")
	if in_junctor:
		for k in ("type", "additionalProperties", "description", "default", "nullable",
			  "x-kubernetes-int-or-string", "x-kubernetes-preserve-unknown-fields"):
			if k in s:
				err(where, path, "'%s' may not be set inside allOf/anyOf/oneOf/not" % k)
	else:
		ios = s.get("x-kubernetes-int-or-string")
		if ios:
			if "type" in s:
				err(where, path, "x-kubernetes-int-or-string: no type beside it")
			if s.get("anyOf") != INT_OR_STRING and not (
					s.get("allOf") and s["allOf"][0].get("anyOf") == INT_OR_STRING):
				err(where, path, "x-kubernetes-int-or-string needs anyOf: [integer, string]")
		elif "type" not in s and not s.get("x-kubernetes-preserve-unknown-fields"):
			err(where, path, "no type (a structural schema types every node)")
	if s.get("uniqueItems"):
		err(where, path, "uniqueItems: true is forbidden (x-kubernetes-list-type: set)")
	if "properties" in s and "additionalProperties" in s:
		err(where, path, "additionalProperties and properties are mutually exclusive")
	if root and "additionalProperties" in s:
		err(where, path, "additionalProperties must not be used at the root")
	if "properties" in s and s.get("type", "object") != "object":
		err(where, path, "properties on a %s" % s.get("type"))
	if "items" in s and s.get("type") != "array":
		err(where, path, "items on a %s" % s.get("type"))
	if s.get("type") == "array" and "items" not in s and not in_junctor:
		err(where, path, "an array needs items")
	if s.get("x-kubernetes-list-type") == "set":
		it = s.get("items", {})
		if it.get("type") not in ("string", "integer", "number", "boolean"):
			err(where, path, "list-type set needs scalar items")
	for e in s.get("enum", []):
		if s.get("type") == "string" and not isinstance(e, str):
			err(where, path, "enum value %r is not a string" % (e,))
	if "pattern" in s:
		try:
			re.compile(s["pattern"])
		except re.error as e:
			err(where, path, "pattern: %s" % e)
	if root:
		md = s.get("properties", {}).get("metadata")
		if md is not None and set(md) - {"type"} and set(md.get("properties", {})) - {"name", "generateName"}:
			err(where, path + ".metadata", "only name and generateName may be specified")
	for k, sub in s.get("properties", {}).items():
		structural(where, sub, "%s.properties.%s" % (path, k), in_junctor=in_junctor)
	if isinstance(s.get("additionalProperties"), dict):
		structural(where, s["additionalProperties"], path + ".additionalProperties",
			   in_junctor=in_junctor)
	if isinstance(s.get("items"), dict):
		structural(where, s["items"], path + ".items", in_junctor=in_junctor)
	for j in JUNCTORS:
		subs = s.get(j, [])
		for i, sub in enumerate(subs if isinstance(subs, list) else [subs]):
			if j == "anyOf" and s.get("x-kubernetes-int-or-string") and subs == INT_OR_STRING:
				continue
			structural(where, sub, "%s.%s[%d]" % (path, j, i), in_junctor=True)


def strict(s):
	"""The CRD schema as JSON Schema (draft 4) with the API server's
	behaviour made explicit: an object with properties takes no other
	field (strict field validation), list-type set has unique items."""
	if isinstance(s, list):
		return [strict(x) for x in s]
	if not isinstance(s, dict):
		return s
	out = {k: strict(v) for k, v in s.items() if not k.startswith("x-kubernetes-")}
	if "properties" in s and s.get("type") == "object":
		out["additionalProperties"] = False
	if s.get("x-kubernetes-list-type") == "set":
		out["uniqueItems"] = True
	return out


DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def check_cr(where, obj, crd):
	v = crd["spec"]["versions"]
	api = obj.get("apiVersion", "")
	ver = next((x for x in v if crd["spec"]["group"] + "/" + x["name"] == api), None)
	if ver is None:
		return err(where, "apiVersion", "%s is not served by %s" % (api, crd["metadata"]["name"]))
	nm = obj.get("metadata", {}).get("name", "")
	if not DNS_SUBDOMAIN.match(nm) or len(nm) > 253:
		err(where, "metadata.name", "'%s' is not a DNS subdomain name" % nm)
	schema = dict(strict(ver["schema"]["openAPIV3Schema"]))
	schema["properties"] = dict(schema["properties"], metadata={"type": "object"})
	val = jsonschema.Draft4Validator(schema)
	for e in sorted(val.iter_errors(obj), key=lambda e: list(e.absolute_path)):
		path = ".".join(str(p) for p in e.absolute_path)
		err(where, path, e.message)


def check_nad(where, obj):
	cfg = obj.get("spec", {}).get("config")
	if not isinstance(cfg, str):
		return err(where, "spec.config", "expected the CNI configuration as a JSON string")
	try:
		c = json.loads(cfg)
	except ValueError as e:
		return err(where, "spec.config", "not JSON: %s" % e)
	for p in c.get("plugins", [c]):
		if not isinstance(p, dict) or not isinstance(p.get("type"), str):
			err(where, "spec.config", "a plugin without a type")


# --- driver ------------------------------------------------------------------

def load(path):
	text = open(path).read()
	objs, dec, i = [], json.JSONDecoder(), 0
	try:
		while True:
			while i < len(text) and text[i].isspace():
				i += 1
			if i >= len(text):
				return objs
			o, i = dec.raw_decode(text, i)
			objs.extend(o.get("items", []) if o.get("kind") == "List" else [o])
	except ValueError:
		if i:
			raise
		return [d for d in yaml.safe_load_all(text) if d is not None]


def check(path, obj, crds):
	kind = obj.get("kind", "?") if isinstance(obj, dict) else "?"
	name = obj.get("metadata", {}).get("name", "?") if isinstance(obj, dict) else "?"
	where = "%s: %s/%s" % (path, kind, name)
	if not isinstance(obj, dict) or "apiVersion" not in obj or "kind" not in obj:
		return err(where, "", "not a Kubernetes object (apiVersion and kind)")
	api = obj["apiVersion"]
	if kind == "ServiceChain":
		crd = crds.get("servicechains.nfchain.io")
		if crd is None:
			return err(where, "", "no CRD for ServiceChain (--crd)")
		return check_cr(where, obj, crd)
	if kind == "NetworkAttachmentDefinition" and api == "k8s.cni.cncf.io/v1":
		return check_nad(where, obj)
	if K is None:
		return err(where, "", "python3-kubernetes is not installed")
	cls = getattr(K, model_name(obj), None)
	if cls is None:
		return err(where, "apiVersion", "unknown kind %s in %s" % (kind, api))
	check_type(where, "", obj, cls.__name__)
	if kind == "CustomResourceDefinition":
		for i, v in enumerate(obj.get("spec", {}).get("versions", [])):
			s = v.get("schema", {}).get("openAPIV3Schema")
			p = "spec.versions[%d].schema.openAPIV3Schema" % i
			if s is None:
				err(where, p, "missing")
				continue
			structural(where, s, p, root=True)
			try:
				jsonschema.Draft4Validator.check_schema(strict(s))
			except jsonschema.SchemaError as e:
				err(where, p, "not a schema: %s" % e.message)


def main(argv):
	crds, files = {}, []
	args = argv[1:]
	while args:
		a = args.pop(0)
		if a == "--crd" and args:
			for o in load(args.pop(0)):
				crds[o["metadata"]["name"]] = o
		elif a.startswith("-"):
			print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
			return 2
		else:
			files.append(a)
	if not files:
		print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
		return 2
	loaded = []
	for f in files:
		try:
			objs = load(f)
		except (OSError, ValueError, yaml.YAMLError) as e:
			err(f, "", "cannot read: %s" % e)
			continue
		for o in objs:
			if isinstance(o, dict) and o.get("kind") == "CustomResourceDefinition":
				crds.setdefault(o.get("metadata", {}).get("name"), o)
		loaded.append((f, objs))
	n = 0
	for f, objs in loaded:
		for o in objs:
			check(f, o, crds)
			n += 1
	for e in errors:
		print(e)
	if not errors:
		print("%d objects OK" % n)
	return 1 if errors else 0


if __name__ == "__main__":
	sys.exit(main(sys.argv))
