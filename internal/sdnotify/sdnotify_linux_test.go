package sdnotify

import (
	"fmt"
	"os"
	"testing"
)

func TestSendAbstract(t *testing.T) {
	addr := fmt.Sprintf("@daemonctl-sdnotify-test/%d/%s", os.Getpid(), t.Name())
	fd := listen(t, addr)
	t.Setenv("NOTIFY_SOCKET", addr)
	if sent, err := Send(false, Ready); !sent || err != nil {
		t.Fatalf("Send = %v, %v; want true, nil", sent, err)
	}
	if msg, cred, ok := received(t, fd); !ok || msg != Ready || int(cred.Pid) != os.Getpid() {
		t.Fatalf("received %q (%v) from %+v, want %q from pid %d", msg, ok, cred, Ready, os.Getpid())
	}
}
