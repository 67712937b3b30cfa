/* export_views.h - job views shared by the exporters' unit tests
 * (test_export_sarif.c, test_export_rdjson.c), as JSON text. */
#ifndef CI_TEST_EXPORT_VIEWS_H
#define CI_TEST_EXPORT_VIEWS_H

/* A finished debug job of app/main.py with one lint finding; frame, fix and
 * verification are JSON texts (root_frame, fix, verification). */
#define DEBUG_VIEW(frame, fix, verification) \
    "{\"type\":\"debug\",\"status\":\"done\",\"file_path\":\"app/main.py\"," \
    "\"findings\":[{\"line\":1,\"severity\":\"minor\",\"rule_id\":\"F401\"," \
    "\"message\":\"'os' imported but unused\",\"source\":\"lint:flake8\"}]," \
    "\"root_cause\":\"mean() divides by len([]).\",\"confidence\":0.8," \
    "\"root_frame\":" frame ",\"fix\":" fix ",\"verification\":" verification "}"
#define UTIL_FIX "\"--- a/app/util.py\\n+++ b/app/util.py\\n@@ -2 +2 @@\\n-    return a / b\\n" \
                 "+    return a / b if b else 0.0\\n\""

#endif
