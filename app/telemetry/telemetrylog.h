#pragma once
#include <QLoggingCategory>

Q_DECLARE_LOGGING_CATEGORY(lcTelemetry) // gatehouse.telemetry: /metrics and the OTLP export
