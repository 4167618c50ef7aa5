"""A URL configuration with one slow synchronous view that records how many run at once."""

import threading
import time

from django.http import HttpResponse
from django.urls import path

running = {"now": 0, "most": 0}
_lock = threading.Lock()


def slow(request):
    with _lock:
        running["now"] += 1
        running["most"] = max(running["most"], running["now"])
    time.sleep(0.3)
    with _lock:
        running["now"] -= 1
    return HttpResponse("done")


urlpatterns = [path("slow", slow)]
