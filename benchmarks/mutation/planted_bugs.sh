#!/bin/bash
# Plant each of issue 21's three bugs alone in a scratch copy and run the test meant to catch it.
# Usage: git archive HEAD | tar -x -C /tmp/sm/planted, then run this script. Each line printed
# must show pytest rc=1 (a test failed); rc=0 means the bug went unnoticed, 124 a hang.
cd /tmp/sm/planted
P=/work/main/.venv/bin/python
export PYTHONPATH=$PWD
run() { # name, file, python-edit, tests...
  name=$1; file=$2; edit=$3; shift 3
  cp $file /tmp/sm/orig.py
  $P -c "import sys; p='$file'; s=open(p).read(); a,b=sys.argv[1].split('=>'); assert a in s, a; open(p,'w').write(s.replace(a,b,1))" "$edit"
  start=$SECONDS
  timeout 900 $P -m pytest -q -p no:cacheprovider -x "$@" > /tmp/sm/planted_$name.log 2>&1
  rc=$?
  cp /tmp/sm/orig.py $file
  echo "$name: pytest rc=$rc in $((SECONDS - start)) s ($(tail -1 /tmp/sm/planted_$name.log))"
}
run truncated-adapter-check trainjob/checkpoints.py "        _check_weights(adapter, problems)=>        pass" tests/trainjob/test_trainjob_atomic.py tests/trainjob/test_trainjob_checkpoints.py
run copy-final-noop trainjob/finish.py '    step = checkpoint_step(checkpoint)
    if step is None:=>    return
    step = checkpoint_step(checkpoint)
    if step is None:' tests/trainjob/test_trainjob_atomic.py
# EarlyStop.install a no-op: the real run (one `trainjob run`, SIGTERM at the first asset-cache
# write) exits -15 instead of 0; then the in-process test with a real signal to pytest itself.
run sigterm-before-training trainjob/signals.py "            self._previous = signal.signal(signal.SIGTERM, self._handler)=>            self._previous = None" tests/trainjob/test_sigterm_before_training.py
run sigterm-before-training-unit trainjob/signals.py "            self._previous = signal.signal(signal.SIGTERM, self._handler)=>            self._previous = None" "tests/trainjob/test_trainjob_signals.py::test_early_stop_takes_sigterm_and_gives_it_back"
echo done
