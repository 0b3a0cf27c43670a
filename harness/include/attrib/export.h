#pragma once
// Symbol visibility. Everything is built with -fvisibility=hidden; only what is marked here is
// exported. Interface classes are exported so that their type info (and so dynamic_cast and
// exceptions) is shared between the host and plugins.
#if defined(ATTRIB_SDK_BUILDING)
#define ATTRIB_SDK_API __attribute__((visibility("default")))
#else
#define ATTRIB_SDK_API __attribute__((visibility("default")))
#endif
// Marks a plugin's entry point.
#define ATTRIB_PLUGIN_EXPORT __attribute__((visibility("default")))
