# Grows its memory in steps of HOG_STEP_MB every HOG_EVERY_MS, touching
# every page, and reports each step: past the size's quota (R14), then
# past twice that (R15).
import os
import time

step = int(os.environ.get("HOG_STEP_MB", "8"))
every = int(os.environ.get("HOG_EVERY_MS", "250")) / 1000.0
held = []
while True:
    held.append(bytearray(b"x" * (step << 20)))
    print("hog holds %d MB" % (len(held) * step), flush=True)
    time.sleep(every)
