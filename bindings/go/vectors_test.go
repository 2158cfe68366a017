package cairn_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"cairn.dev/cairn/cairnpb"
)

// The shared test vectors of proto/testdata/: each envelope and its body
// decode with the generated code to what the vector's JSON form says, and
// encode back to the same bytes. The C, TypeScript and protoc checks read
// the same files.

type vector struct {
	Name    string                     `json:"name"`
	Method  string                     `json:"method"`
	Kind    string                     `json:"kind"`
	Message map[string]json.RawMessage `json:"message"`
}

var testdata = filepath.Join(repo, "proto", "testdata")

func vectorNames(t *testing.T) []string {
	files, err := filepath.Glob(filepath.Join(testdata, "*.bin"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no vectors in %s", testdata)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".bin"))
	}
	sort.Strings(names)
	return names
}

func TestEveryRPCHasVectors(t *testing.T) {
	names := vectorNames(t)
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	methods := cairnpb.File_cairn_proto.Services().ByName("Queue").Methods()
	for i := 0; i < methods.Len(); i++ {
		m := string(methods.Get(i).Name())
		if !have[m+".request"] || !have[m+".reply"] {
			t.Errorf("no vectors for rpc %s: run proto/testdata/generate.py", m)
		}
	}
}

// body checks a body against its JSON form and that it re-encodes to the
// same bytes.
func body(t *testing.T, name string, md protoreflect.MessageDescriptor, data []byte, js json.RawMessage) {
	t.Helper()
	got := dynamicpb.NewMessage(md)
	if err := proto.Unmarshal(data, got); err != nil {
		t.Fatalf("%s: body: %v", name, err)
	}
	want := dynamicpb.NewMessage(md)
	if js == nil {
		js = json.RawMessage("{}")
	}
	if err := protojson.Unmarshal(js, want); err != nil {
		t.Fatalf("%s: JSON form: %v", name, err)
	}
	back, err := proto.MarshalOptions{Deterministic: true}.Marshal(got)
	if err != nil || string(back) != string(data) {
		t.Errorf("%s: the body re-encodes differently (%v)", name, err)
	}
	// JSON cannot hold the fields a client does not know.
	got.SetUnknown(nil)
	if !proto.Equal(got, want) {
		t.Errorf("%s: the body decodes unlike its JSON form:\n got %v\nwant %v", name, got, want)
	}
	if !strings.HasSuffix(name, "unknown-field") {
		enc, _ := proto.MarshalOptions{Deterministic: true}.Marshal(want)
		if string(enc) != string(data) {
			t.Errorf("%s: the JSON form encodes differently", name)
		}
	}
}

func TestVectors(t *testing.T) {
	service := cairnpb.File_cairn_proto.Services().ByName("Queue")
	for _, name := range vectorNames(t) {
		t.Run(name, func(t *testing.T) {
			bin, err := os.ReadFile(filepath.Join(testdata, name+".bin"))
			if err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(filepath.Join(testdata, name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var v vector
			if err := json.Unmarshal(raw, &v); err != nil {
				t.Fatal(err)
			}
			m := service.Methods().ByName(protoreflect.Name(v.Method))
			if m == nil {
				t.Fatalf("service Queue has no rpc %s", v.Method)
			}
			// The envelope's own fields, from the JSON form without body.
			js := map[string]json.RawMessage{}
			for k, x := range v.Message {
				if k != "body" {
					js[k] = x
				}
			}
			envJSON, _ := json.Marshal(js)
			var env, want proto.Message
			var payload []byte
			var bodyMD protoreflect.MessageDescriptor
			if v.Kind == "request" {
				var r cairnpb.Request
				if err := proto.Unmarshal(bin, &r); err != nil {
					t.Fatal(err)
				}
				if r.Method != v.Method {
					t.Errorf("method %q, want %q", r.Method, v.Method)
				}
				env, payload, bodyMD = &r, r.Body, m.Input()
				w := &cairnpb.Request{}
				want = w
			} else {
				var r cairnpb.Response
				if err := proto.Unmarshal(bin, &r); err != nil {
					t.Fatal(err)
				}
				env, payload, bodyMD = &r, r.Body, m.Output()
				if r.Code != cairnpb.Code_OK {
					bodyMD = nil
				}
				want = &cairnpb.Response{}
			}
			if err := protojson.Unmarshal(envJSON, want); err != nil {
				t.Fatal(err)
			}
			if bodyMD != nil {
				body(t, name, bodyMD, payload, v.Message["body"])
			}
			back, _ := proto.MarshalOptions{Deterministic: true}.Marshal(env)
			if string(back) != string(bin) {
				t.Errorf("the envelope re-encodes differently")
			}
			// The envelope's fields but the body match the JSON form.
			env.ProtoReflect().Clear(env.ProtoReflect().Descriptor().Fields().ByName("body"))
			env.ProtoReflect().SetUnknown(nil)
			if !proto.Equal(env, want) {
				t.Errorf("envelope %v, want %v", env, want)
			}
		})
	}
}
