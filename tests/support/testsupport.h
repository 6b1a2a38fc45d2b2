#pragma once

// Everything the integration tests share: include this one header.
#include "gatewayprocess.h"
#include "httpclient.h"
#include "mockupstream.h"
#include "testhelpers.h"
