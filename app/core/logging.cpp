#include "core/logging.h"

Q_LOGGING_CATEGORY(lcGateway, "gatehouse.gateway", QtInfoMsg)
Q_LOGGING_CATEGORY(lcUpstream, "gatehouse.upstream", QtInfoMsg)
Q_LOGGING_CATEGORY(lcStore, "gatehouse.store", QtInfoMsg)
Q_LOGGING_CATEGORY(lcBudget, "gatehouse.budget", QtInfoMsg)
Q_LOGGING_CATEGORY(lcConfig, "gatehouse.config", QtInfoMsg)
Q_LOGGING_CATEGORY(lcSecrets, "gatehouse.secrets", QtInfoMsg)
Q_LOGGING_CATEGORY(lcPricing, "gatehouse.pricing", QtInfoMsg)
