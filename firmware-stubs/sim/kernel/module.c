/* SPDX-License-Identifier: MIT */
/*
 * A small driver image kdsim lays into the loaded-module list (hal.dll,
 * kdcom.dll, simdrv.sys are this file built with different names).
 */
typedef unsigned long long u64;

#define EXPORT __declspec(dllexport)

#ifndef MODULE_SALT
#define MODULE_SALT 1
#endif

EXPORT u64 ModuleCounter;

EXPORT __attribute__((noinline)) u64 ModuleCompute(u64 x)
{
	ModuleCounter++;
	return x * MODULE_SALT + ModuleCounter;
}

EXPORT u64 DriverEntry(u64 a, u64 b)
{
	return ModuleCompute(a ^ b);
}
