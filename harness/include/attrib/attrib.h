#pragma once
// Umbrella header of the attrib plugin SDK.
#include "attrib/abi.h"
#include "attrib/batch.h"
#include "attrib/error.h"
#include "attrib/export.h"
#include "attrib/input_space.h"
#include "attrib/method.h"
#include "attrib/model.h"
#include "attrib/params.h"
#include "attrib/plugin.h"
#include "attrib/quadrature.h"
#include "attrib/random.h"
#include "attrib/torchscript_model.h"
