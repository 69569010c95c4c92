// k8s-validate checks rendered Kubernetes manifests offline against the official API types.
//
// Each YAML document is decoded strictly into the Go type of its apiVersion/kind (k8s.io/api, and the
// Prometheus Operator's ServiceMonitor/PodMonitor): an unknown field, a duplicate key, a wrong type or an
// unparsable quantity is an error, and so is an unknown kind. Names and labels are checked as the API
// server would (DNS-1123, label syntax). Usage: k8s-validate [FILE...] (stdin when none). Exit 0 if all
// documents are valid, 1 otherwise, 2 on usage or I/O errors. With -json the decoded objects are printed
// to stdout as one JSON array (what the typed API objects hold, for tests to read) and the report goes to stderr.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, autoscalingv2.AddToScheme, batchv1.AddToScheme,
		networkingv1.AddToScheme, policyv1.AddToScheme, rbacv1.AddToScheme, monitoringv1.AddToScheme,
	} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}

// validateDoc decodes one document strictly and returns "Kind/name" or an error.
func validateDoc(s *runtime.Scheme, doc []byte) (string, runtime.Object, error) {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return "", nil, fmt.Errorf("not a Kubernetes object: %w", err)
	}
	if tm.APIVersion == "" || tm.Kind == "" {
		return "", nil, errors.New("apiVersion and kind are required")
	}
	gv, err := schema.ParseGroupVersion(tm.APIVersion)
	if err != nil {
		return "", nil, err
	}
	obj, err := s.New(gv.WithKind(tm.Kind))
	if err != nil {
		return "", nil, fmt.Errorf("unknown kind %s %s", tm.APIVersion, tm.Kind)
	}
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		return "", nil, fmt.Errorf("%s: %w", tm.Kind, err)
	}
	meta, ok := obj.(metav1.Object)
	if !ok {
		return "", nil, fmt.Errorf("%s has no object metadata", tm.Kind)
	}
	id := tm.Kind + "/" + meta.GetName()
	var problems []string
	if meta.GetName() == "" {
		problems = append(problems, "metadata.name is empty")
	} else {
		problems = append(problems, validation.IsDNS1123Subdomain(meta.GetName())...)
	}
	for k, v := range meta.GetLabels() {
		problems = append(problems, prefix("label key "+k, validation.IsQualifiedName(k))...)
		problems = append(problems, prefix("label "+k+" value", validation.IsValidLabelValue(v))...)
	}
	for k := range meta.GetAnnotations() {
		problems = append(problems, prefix("annotation key "+k, validation.IsQualifiedName(strings.ToLower(k)))...)
	}
	if len(problems) > 0 {
		return id, nil, fmt.Errorf("%s: %s", id, strings.Join(problems, "; "))
	}
	return id, obj, nil
}

func prefix(p string, msgs []string) []string {
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, p+": "+m)
	}
	return out
}

// isEmpty reports whether a document holds only comments and blank lines (helm emits those).
func isEmpty(doc []byte) bool {
	for _, line := range bytes.Split(doc, []byte("\n")) {
		t := bytes.TrimSpace(line)
		if len(t) > 0 && t[0] != '#' && string(t) != "---" {
			return false
		}
	}
	return true
}

// validateStream validates every document of r, reports each on out and appends the valid ones to objs.
func validateStream(
	s *runtime.Scheme, name string, r io.Reader, out io.Writer, objs *[]runtime.Object,
) (valid, invalid int, err error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(r))
	for n := 1; ; n++ {
		doc, rerr := reader.Read()
		if rerr == io.EOF {
			return valid, invalid, nil
		}
		if rerr != nil {
			return valid, invalid, rerr
		}
		if isEmpty(doc) {
			continue
		}
		id, obj, verr := validateDoc(s, doc)
		if verr != nil {
			invalid++
			fmt.Fprintf(out, "INVALID %s document %d: %v\n", name, n, verr)
		} else {
			valid++
			*objs = append(*objs, obj)
			fmt.Fprintf(out, "ok %s\n", id)
		}
	}
}

func main() {
	jsonOut := flag.Bool("json", false, "print the decoded objects as a JSON array on stdout (report on stderr)")
	flag.Parse()
	s := newScheme()
	files := flag.Args()
	var report io.Writer = os.Stdout
	if *jsonOut {
		report = os.Stderr
	}
	var objs []runtime.Object
	if len(files) == 0 {
		files = []string{"-"}
	}
	total, bad := 0, 0
	for _, f := range files {
		var r io.Reader = os.Stdin
		if f != "-" {
			fh, err := os.Open(f)
			if err != nil {
				fmt.Fprintln(os.Stderr, "k8s-validate:", err)
				os.Exit(2)
			}
			defer fh.Close()
			r = fh
		}
		v, i, err := validateStream(s, f, r, report, &objs)
		total, bad = total+v+i, bad+i
		if err != nil {
			fmt.Fprintf(os.Stderr, "k8s-validate: %s: %v\n", f, err)
			os.Exit(2)
		}
	}
	fmt.Fprintf(report, "%d documents, %d invalid\n", total, bad)
	if bad > 0 || total == 0 {
		os.Exit(1)
	}
	if *jsonOut {
		if objs == nil {
			objs = []runtime.Object{}
		}
		if err := json.NewEncoder(os.Stdout).Encode(objs); err != nil {
			fmt.Fprintln(os.Stderr, "k8s-validate:", err)
			os.Exit(2)
		}
	}
}
