/* SPDX-License-Identifier: MIT */
/*
 * The kernel objects of kdsim's synthetic kernel, under Windows' type and
 * member names.  The member names are the ones Windows uses (a subset of
 * them); the layouts are kdsim's own, described by the kernel's PDB, so a
 * debugger that takes every offset from the PDB reads them as it reads a
 * real kernel's.  Where a test or the KDBG names an offset, the member
 * sits where Windows 10 19041 x64 has it (EPROCESS.UniqueProcessId at
 * 0x440, KTHREAD.ThreadListEntry at 0x2f8, the KPCR/KPRCB fields simabi.h
 * names...), checked by the static asserts at the end.
 *
 * Two compilers read this file: clang-cl building the kernel (pointers are
 * typed, so the PDB describes what they point at) and the host compiler
 * building kdsim's machine (NT_P() is a plain 64-bit integer there: kdsim
 * only takes offsetof() and sizeof()).  Fixed-width types only, so the two
 * agree; no `long` (32 bits on one side, 64 on the other).
 */
#ifndef KDSIM_NTSTRUCTS_H
#define KDSIM_NTSTRUCTS_H

#include <stddef.h>
#include <stdint.h>

#ifdef _MSC_VER
#define NT_P(T) T *
#else
#define NT_P(T) uint64_t
#endif

/* Dispatcher object types (DISPATCHER_HEADER.Type), as Windows numbers them. */
#define NT_EVENT_NOTIFICATION 0
#define NT_EVENT_SYNCHRONIZATION 1
#define NT_PROCESS_OBJECT 3
#define NT_THREAD_OBJECT 6
/* IO object types (DRIVER_OBJECT.Type and so on). */
#define NT_IO_TYPE_IRP 6
#define NT_IO_TYPE_DEVICE 3
#define NT_IO_TYPE_DRIVER 4
#define NT_IO_TYPE_DEVICE_OBJECT_EXTENSION 13
/* KTHREAD.State (_KTHREAD_STATE). */
#define NT_THREAD_READY 1
#define NT_THREAD_RUNNING 2
#define NT_THREAD_WAITING 5
/* OBJECT_HEADER.InfoMask: a name-info header sits before the header. */
#define NT_OB_INFO_NAME 0x02
#define NT_IRP_MJ_COUNT 28
#define NT_OB_HASH_BUCKETS 37

struct _LIST_ENTRY {
	NT_P(struct _LIST_ENTRY) Flink;
	NT_P(struct _LIST_ENTRY) Blink;
};

struct _UNICODE_STRING {
	uint16_t Length;
	uint16_t MaximumLength;
	uint32_t Padding;
	NT_P(uint16_t) Buffer;
};

struct _CLIENT_ID {
	NT_P(void) UniqueProcess;
	NT_P(void) UniqueThread;
};

struct _DISPATCHER_HEADER {
	uint8_t Type;
	uint8_t Signalling;
	uint8_t Size;
	uint8_t Reserved1;
	int32_t SignalState;
	struct _LIST_ENTRY WaitListHead;
};

struct _KEVENT {
	struct _DISPATCHER_HEADER Header;
};

struct _KWAIT_BLOCK {
	struct _LIST_ENTRY WaitListEntry;
	uint8_t WaitType;
	uint8_t BlockState;
	uint16_t WaitKey;
	int32_t SpareLong;
	NT_P(struct _KTHREAD) Thread;
	NT_P(void) Object;
	NT_P(void) SparePtr;
};

struct _EX_FAST_REF {
	uint64_t Value;
};

struct _KAPC_STATE {
	struct _LIST_ENTRY ApcListHead[2];
	NT_P(struct _KPROCESS) Process;
	uint8_t InProgressFlags;
	uint8_t KernelApcPending;
	uint8_t UserApcPending;
	uint8_t Spare[5];
};

struct _KPROCESS {
	struct _DISPATCHER_HEADER Header;   /* 0x000 */
	struct _LIST_ENTRY ProfileListHead; /* 0x018 */
	uint64_t DirectoryTableBase;	    /* 0x028 */
	struct _LIST_ENTRY ThreadListHead;  /* 0x030 */
	uint32_t ProcessLock;		    /* 0x040 */
	uint32_t ProcessTimerDelay;	    /* 0x044 */
	uint64_t Affinity;		    /* 0x048 */
	struct _LIST_ENTRY ReadyListHead;   /* 0x050 */
	uint64_t ActiveProcessors;	    /* 0x060 */
	uint32_t ProcessFlags;		    /* 0x068 */
	int8_t BasePriority;		    /* 0x06c */
	int8_t QuantumReset;		    /* 0x06d */
	uint8_t Visited;		    /* 0x06e */
	uint8_t Spare0;			    /* 0x06f */
	uint32_t KernelTime;		    /* 0x070 */
	uint32_t UserTime;		    /* 0x074 */
	uint8_t Reserved[0x438 - 0x78];	    /* to Windows' size */
};

struct _HANDLE_TABLE {
	uint32_t NextHandleNeedingPool;
	int32_t ExtraInfoPages;
	uint64_t TableCode;
	NT_P(struct _EPROCESS) QuotaProcess;
	struct _LIST_ENTRY HandleTableList;
	uint32_t UniqueProcessId;
	uint32_t Flags;
	uint64_t HandleContentionEvent;
	uint64_t HandleTableLock;
	uint8_t Reserved[0x80 - 0x40];
};

struct _EPROCESS {
	struct _KPROCESS Pcb;		       /* 0x000 */
	uint64_t ProcessLock;		       /* 0x438 */
	NT_P(void) UniqueProcessId;	       /* 0x440 */
	struct _LIST_ENTRY ActiveProcessLinks; /* 0x448 */
	uint64_t RundownProtect;	       /* 0x458 */
	uint32_t Flags2;		       /* 0x460 */
	uint32_t Flags;			       /* 0x464 */
	int64_t CreateTime;		       /* 0x468 */
	uint8_t Reserved0[0x4b8 - 0x470];
	struct _EX_FAST_REF Token; /* 0x4b8 */
	uint8_t Reserved1[0x538 - 0x4c0];
	NT_P(void) DeviceMap;			 /* 0x538 */
	NT_P(void) InheritedFromUniqueProcessId; /* 0x540 */
	uint64_t Reserved2;			 /* 0x548 */
	NT_P(void) Peb;				 /* 0x550 */
	NT_P(void) Session;			 /* 0x558 */
	uint8_t Reserved3[0x570 - 0x560];
	NT_P(struct _HANDLE_TABLE) ObjectTable; /* 0x570 */
	NT_P(void) DebugPort;			/* 0x578 */
	uint8_t Reserved4[0x5a8 - 0x580];
	uint8_t ImageFileName[15]; /* 0x5a8 */
	uint8_t PriorityClass;	   /* 0x5b7 */
	uint8_t Reserved5[0x5e0 - 0x5b8];
	struct _LIST_ENTRY ThreadListHead; /* 0x5e0 */
	uint32_t ActiveThreads;		   /* 0x5f0 */
	uint32_t ImagePathHash;		   /* 0x5f4 */
	uint8_t Reserved6[0x850 - 0x5f8];  /* to Windows' size */
};

struct _KTHREAD {
	struct _DISPATCHER_HEADER Header;	 /* 0x000 */
	NT_P(void) SListFaultAddress;		 /* 0x018 */
	uint64_t QuantumTarget;			 /* 0x020 */
	NT_P(void) InitialStack;		 /* 0x028 */
	NT_P(void) StackLimit;			 /* 0x030 */
	NT_P(void) StackBase;			 /* 0x038 */
	uint64_t ThreadLock;			 /* 0x040 */
	uint64_t CycleTime;			 /* 0x048 */
	uint32_t CurrentRunTime;		 /* 0x050 */
	uint32_t ExpectedRunTime;		 /* 0x054 */
	NT_P(void) KernelStack;			 /* 0x058 */
	NT_P(void) StateSaveArea;		 /* 0x060 */
	NT_P(void) SchedulingGroup;		 /* 0x068 */
	uint8_t WaitRegister;			 /* 0x070 */
	uint8_t Running;			 /* 0x071 */
	uint8_t Alerted[2];			 /* 0x072 */
	uint32_t MiscFlags;			 /* 0x074 */
	uint32_t ThreadFlags;			 /* 0x078 */
	uint32_t Spare0;			 /* 0x07c */
	uint32_t SystemCallNumber;		 /* 0x080 */
	uint32_t ReadyTime;			 /* 0x084 */
	NT_P(void) FirstArgument;		 /* 0x088 */
	NT_P(void) TrapFrame;			 /* 0x090 */
	struct _KAPC_STATE ApcState;		 /* 0x098 */
	int64_t WaitStatus;			 /* 0x0c8 */
	NT_P(struct _KWAIT_BLOCK) WaitBlockList; /* 0x0d0 */
	struct _LIST_ENTRY WaitListEntry;	 /* 0x0d8 */
	NT_P(void) Queue;			 /* 0x0e8 */
	NT_P(void) Teb;				 /* 0x0f0 */
	uint64_t RelativeTimerBias;		 /* 0x0f8 */
	NT_P(void) Win32Thread;			 /* 0x100 */
	uint32_t WaitTime;			 /* 0x108 */
	uint32_t KernelTime;			 /* 0x10c */
	uint32_t UserTime;			 /* 0x110 */
	uint32_t ContextSwitches;		 /* 0x114 */
	uint8_t State;				 /* 0x118 */
	uint8_t NpxState;			 /* 0x119 */
	uint8_t WaitIrql;			 /* 0x11a */
	int8_t WaitMode;			 /* 0x11b */
	uint8_t WaitReason;			 /* 0x11c */
	uint8_t Alertable;			 /* 0x11d */
	int8_t Priority;			 /* 0x11e */
	int8_t BasePriority;			 /* 0x11f */
	int8_t PriorityDecrement;		 /* 0x120 */
	int8_t ForegroundBoost;			 /* 0x121 */
	int8_t UnusualBoost;			 /* 0x122 */
	uint8_t Saturation;			 /* 0x123 */
	uint32_t IdealProcessor;		 /* 0x124 */
	uint32_t NextProcessor;			 /* 0x128 */
	uint32_t Spare1;			 /* 0x12c */
	uint8_t Reserved0[0x140 - 0x130];
	struct _KWAIT_BLOCK WaitBlock[4]; /* 0x140 */
	uint8_t Reserved1[0x220 - 0x200];
	NT_P(struct _KPROCESS) Process; /* 0x220 */
	uint8_t Reserved2[0x2f8 - 0x228];
	struct _LIST_ENTRY ThreadListEntry; /* 0x2f8 */
	uint8_t Reserved3[0x430 - 0x308];   /* to Windows' size */
};

struct _ETHREAD {
	struct _KTHREAD Tcb; /* 0x000 */
	int64_t CreateTime;  /* 0x430 */
	int64_t ExitTime;    /* 0x438 */
	uint8_t Reserved0[0x478 - 0x440];
	struct _CLIENT_ID Cid; /* 0x478 */
	uint8_t Reserved1[0x4a0 - 0x488];
	NT_P(void) StartAddress;    /* 0x4a0 */
	uint64_t Reserved2;	    /* 0x4a8 */
	struct _LIST_ENTRY IrpList; /* 0x4b0 */
	uint8_t Reserved3[0x4d0 - 0x4c0];
	NT_P(void) Win32StartAddress; /* 0x4d0 */
	uint8_t Reserved4[0x4e8 - 0x4d8];
	struct _LIST_ENTRY ThreadListEntry; /* 0x4e8 */
	uint64_t RundownProtect;	    /* 0x4f8 */
};

/* Small-pool block header, 16 bytes before each block (x64). */
struct _POOL_HEADER {
	uint16_t PreviousSize : 8; /* in 16-byte units */
	uint16_t PoolIndex : 8;
	uint16_t BlockSize : 8; /* in 16-byte units, header included */
	uint16_t PoolType : 8;	/* 0 free, 1 NonPagedPool + 1... */
	uint32_t PoolTag;
	NT_P(struct _EPROCESS) ProcessBilled;
};

struct _OBJECT_TYPE {
	struct _LIST_ENTRY TypeList;
	struct _UNICODE_STRING Name;
	NT_P(void) DefaultObject;
	uint8_t Index;
	uint8_t Spare[3];
	uint32_t TotalNumberOfObjects;
	uint32_t TotalNumberOfHandles;
	uint32_t HighWaterNumberOfObjects;
	uint32_t HighWaterNumberOfHandles;
	uint32_t Key; /* the pool tag of the type's objects */
};

/* The header before every object body (Body at +0x30, as on x64). */
struct _OBJECT_HEADER {
	int64_t PointerCount;	       /* 0x00 */
	int64_t HandleCount;	       /* 0x08 */
	uint64_t Lock;		       /* 0x10 */
	uint8_t TypeIndex;	       /* 0x18: ObTypeIndexTable, not encoded */
	uint8_t TraceFlags;	       /* 0x19 */
	uint8_t InfoMask;	       /* 0x1a */
	uint8_t Flags;		       /* 0x1b */
	uint32_t Reserved;	       /* 0x1c */
	NT_P(void) ObjectCreateInfo;   /* 0x20 */
	NT_P(void) SecurityDescriptor; /* 0x28 */
	uint64_t Body;		       /* 0x30 */
};

/* Just before the OBJECT_HEADER when InfoMask has NT_OB_INFO_NAME. */
struct _OBJECT_HEADER_NAME_INFO {
	NT_P(struct _OBJECT_DIRECTORY) Directory;
	struct _UNICODE_STRING Name;
	int32_t ReferenceCount;
	uint32_t Reserved;
};

struct _OBJECT_DIRECTORY_ENTRY {
	NT_P(struct _OBJECT_DIRECTORY_ENTRY) ChainLink;
	NT_P(void) Object;
	uint32_t HashValue;
	uint32_t Reserved;
};

struct _OBJECT_DIRECTORY {
	NT_P(struct _OBJECT_DIRECTORY_ENTRY) HashBuckets[NT_OB_HASH_BUCKETS];
	uint64_t Lock;
	NT_P(void) DeviceMap;
	uint32_t SessionId;
	uint32_t Flags;
};

struct _KIDTENTRY64 {
	uint16_t OffsetLow;
	uint16_t Selector;
	uint16_t IstIndex : 3;
	uint16_t Reserved0 : 5;
	uint16_t Type : 5;
	uint16_t Dpl : 2;
	uint16_t Present : 1;
	uint16_t OffsetMiddle;
	uint32_t OffsetHigh;
	uint32_t Reserved1;
};

/* What the kernel's IDT is built from: vector -> handler. */
struct _KIDT_INIT_ENTRY {
	uint32_t Vector;
	uint32_t Dpl;
	NT_P(void) ServiceRoutine;
};

struct _KPROCESSOR_STATE {
	uint8_t ContextFrame[0x4d0]; /* a CONTEXT (the debugger's layout) */
	uint8_t SpecialRegisters[0xf0];
};

struct _KPRCB {
	uint32_t MxCsr;			     /* 0x000 */
	uint8_t LegacyNumber;		     /* 0x004 */
	uint8_t ReservedMustBeZero;	     /* 0x005 */
	uint8_t InterruptRequest;	     /* 0x006 */
	uint8_t IdleHalt;		     /* 0x007 */
	NT_P(struct _KTHREAD) CurrentThread; /* 0x008 */
	NT_P(struct _KTHREAD) NextThread;    /* 0x010 */
	NT_P(struct _KTHREAD) IdleThread;    /* 0x018 */
	uint8_t NestingLevel;		     /* 0x020 */
	uint8_t ClockOwner;		     /* 0x021 */
	uint8_t PendingTickFlags;	     /* 0x022 */
	uint8_t IdleState;		     /* 0x023 */
	uint32_t Number;		     /* 0x024 */
	uint64_t RspBase;		     /* 0x028 */
	uint64_t PrcbLock;		     /* 0x030 */
	uint64_t SetMember;		     /* 0x038 */
	uint64_t SimWorkTicks;		     /* 0x040: kdsim's own */
	uint8_t DebuggerSavedIRQL;	     /* 0x048 */
	uint8_t Reserved0[7];
	uint32_t InterruptCount; /* 0x050 */
	uint32_t KernelTime;	 /* 0x054 */
	uint32_t UserTime;	 /* 0x058 */
	uint32_t DpcTime;	 /* 0x05c */
	uint32_t InterruptTime;	 /* 0x060 */
	uint8_t Reserved1[0x100 - 0x64];
	struct _KPROCESSOR_STATE ProcessorState; /* 0x100 */
};

struct _KPCR {
	NT_P(void) GdtBase;		       /* 0x000 */
	NT_P(void) TssBase;		       /* 0x008 */
	uint64_t UserRsp;		       /* 0x010 */
	NT_P(struct _KPCR) Self;	       /* 0x018 */
	NT_P(struct _KPRCB) CurrentPrcb;       /* 0x020 */
	NT_P(void) LockArray;		       /* 0x028 */
	NT_P(void) Used_Self;		       /* 0x030 */
	NT_P(struct _KIDTENTRY64) IdtBase;     /* 0x038 */
	uint64_t Unused[2];		       /* 0x040 */
	uint8_t Irql;			       /* 0x050 */
	uint8_t SecondLevelCacheAssociativity; /* 0x051 */
	uint8_t ObsoleteNumber;		       /* 0x052 */
	uint8_t Fill0;			       /* 0x053 */
	uint32_t Unused0[3];		       /* 0x054 */
	uint16_t MajorVersion;		       /* 0x060 */
	uint16_t MinorVersion;		       /* 0x062 */
	uint32_t StallScaleFactor;	       /* 0x064 */
	uint8_t Reserved0[0x108 - 0x68];
	NT_P(void) KdVersionBlock; /* 0x108 */
	uint8_t Reserved1[0x180 - 0x110];
	struct _KPRCB Prcb; /* 0x180 */
};

struct _IO_STATUS_BLOCK {
	int64_t Status; /* NTSTATUS, widened by the union with Pointer */
	uint64_t Information;
};

struct _IO_STACK_LOCATION {
	uint8_t MajorFunction; /* 0x00 */
	uint8_t MinorFunction; /* 0x01 */
	uint8_t Flags;	       /* 0x02 */
	uint8_t Control;       /* 0x03 */
	uint32_t Reserved;     /* 0x04 */
	union {
		struct {
			NT_P(void) Argument1;
			NT_P(void) Argument2;
			NT_P(void) Argument3;
			NT_P(void) Argument4;
		} Others;
		struct {
			uint32_t Length;
			uint32_t Key;
			int64_t ByteOffset;
		} Read;
	} Parameters;				  /* 0x08 */
	NT_P(struct _DEVICE_OBJECT) DeviceObject; /* 0x28 */
	NT_P(void) FileObject;			  /* 0x30 */
	NT_P(void) CompletionRoutine;		  /* 0x38 */
	NT_P(void) Context;			  /* 0x40 */
};

struct _IRP {
	int16_t Type;			    /* 0x00 */
	uint16_t Size;			    /* 0x02 */
	uint16_t AllocationProcessorNumber; /* 0x04 */
	uint16_t Reserved;		    /* 0x06 */
	NT_P(void) MdlAddress;		    /* 0x08 */
	uint32_t Flags;			    /* 0x10 */
	uint32_t Reserved1;		    /* 0x14 */
	union {
		NT_P(struct _IRP) MasterIrp;
		int32_t IrpCount;
		NT_P(void) SystemBuffer;
	} AssociatedIrp;			/* 0x18 */
	struct _LIST_ENTRY ThreadListEntry;	/* 0x20 */
	struct _IO_STATUS_BLOCK IoStatus;	/* 0x30 */
	int8_t RequestorMode;			/* 0x40 */
	uint8_t PendingReturned;		/* 0x41 */
	int8_t StackCount;			/* 0x42 */
	int8_t CurrentLocation;			/* 0x43 */
	uint8_t Cancel;				/* 0x44 */
	uint8_t CancelIrql;			/* 0x45 */
	int8_t ApcEnvironment;			/* 0x46 */
	uint8_t AllocationFlags;		/* 0x47 */
	NT_P(struct _IO_STATUS_BLOCK) UserIosb; /* 0x48 */
	NT_P(struct _KEVENT) UserEvent;		/* 0x50 */
	uint64_t Overlay[2];			/* 0x58 */
	NT_P(void) CancelRoutine;		/* 0x68 */
	NT_P(void) UserBuffer;			/* 0x70 */
	union {
		struct {
			NT_P(void) DriverContext[4];  /* 0x78 */
			NT_P(struct _ETHREAD) Thread; /* 0x98 */
			NT_P(void) AuxiliaryBuffer;   /* 0xa0 */
			struct _LIST_ENTRY ListEntry; /* 0xa8 */
			NT_P(struct _IO_STACK_LOCATION)
			CurrentStackLocation;	       /* 0xb8 */
			NT_P(void) OriginalFileObject; /* 0xc0 */
			NT_P(void) IrpExtension;       /* 0xc8 */
		} Overlay;
	} Tail; /* 0x78 */
};

struct _KDEVICE_QUEUE {
	int16_t Type;
	int16_t Size;
	uint32_t Reserved;
	struct _LIST_ENTRY DeviceListHead;
	uint64_t Lock;
	uint8_t Busy;
	uint8_t Reserved1[7];
};

struct _DEVOBJ_EXTENSION {
	int16_t Type;
	uint16_t Size;
	uint32_t Reserved;
	NT_P(struct _DEVICE_OBJECT) DeviceObject;
	uint32_t PowerFlags;
	uint32_t Reserved1;
	NT_P(void) Dope;
	uint32_t ExtensionFlags;
	uint32_t Reserved2;
	NT_P(void) DeviceNode;
	NT_P(struct _DEVICE_OBJECT) AttachedTo;
};

struct _DEVICE_OBJECT {
	int16_t Type;				    /* 0x000 */
	uint16_t Size;				    /* 0x002 */
	int32_t ReferenceCount;			    /* 0x004 */
	NT_P(struct _DRIVER_OBJECT) DriverObject;   /* 0x008 */
	NT_P(struct _DEVICE_OBJECT) NextDevice;	    /* 0x010 */
	NT_P(struct _DEVICE_OBJECT) AttachedDevice; /* 0x018 */
	NT_P(struct _IRP) CurrentIrp;		    /* 0x020 */
	NT_P(void) Timer;			    /* 0x028 */
	uint32_t Flags;				    /* 0x030 */
	uint32_t Characteristics;		    /* 0x034 */
	NT_P(void) Vpb;				    /* 0x038 */
	NT_P(void) DeviceExtension;		    /* 0x040 */
	uint32_t DeviceType;			    /* 0x048 */
	int8_t StackSize;			    /* 0x04c */
	uint8_t Reserved0[0xa0 - 0x4d];
	struct _KDEVICE_QUEUE DeviceQueue; /* 0x0a0 */
	uint8_t Reserved1[0x110 - 0xc8];
	NT_P(void) SecurityDescriptor; /* 0x110 */
	uint8_t Reserved2[0x130 - 0x118];
	uint16_t SectorSize;				      /* 0x130 */
	uint16_t Spare1;				      /* 0x132 */
	uint32_t Reserved3;				      /* 0x134 */
	NT_P(struct _DEVOBJ_EXTENSION) DeviceObjectExtension; /* 0x138 */
	NT_P(void) Reserved;				      /* 0x140 */
	uint64_t Reserved4;				      /* 0x148 */
};

struct _DRIVER_EXTENSION {
	NT_P(struct _DRIVER_OBJECT) DriverObject;
	NT_P(void) AddDevice;
	uint32_t Count;
	uint32_t Reserved;
	struct _UNICODE_STRING ServiceKeyName;
	NT_P(void) ClientDriverExtension;
	NT_P(void) FsFilterCallbacks;
};

struct _DRIVER_OBJECT {
	int16_t Type;					/* 0x000 */
	int16_t Size;					/* 0x002 */
	uint32_t Reserved;				/* 0x004 */
	NT_P(struct _DEVICE_OBJECT) DeviceObject;	/* 0x008 */
	uint32_t Flags;					/* 0x010 */
	uint32_t Reserved1;				/* 0x014 */
	NT_P(void) DriverStart;				/* 0x018 */
	uint32_t DriverSize;				/* 0x020 */
	uint32_t Reserved2;				/* 0x024 */
	NT_P(void) DriverSection;			/* 0x028 */
	NT_P(struct _DRIVER_EXTENSION) DriverExtension; /* 0x030 */
	struct _UNICODE_STRING DriverName;		/* 0x038 */
	NT_P(struct _UNICODE_STRING) HardwareDatabase;	/* 0x048 */
	NT_P(void) FastIoDispatch;			/* 0x050 */
	NT_P(void) DriverInit;				/* 0x058 */
	NT_P(void) DriverStartIo;			/* 0x060 */
	NT_P(void) DriverUnload;			/* 0x068 */
	NT_P(void) MajorFunction[NT_IRP_MJ_COUNT];	/* 0x070 */
};

#define NT_CHECK(t, f, off) \
	_Static_assert(offsetof(struct t, f) == (off), #t "." #f)
#define NT_SIZE(t, n) _Static_assert(sizeof(struct t) == (n), #t)

NT_SIZE(_LIST_ENTRY, 0x10);
NT_SIZE(_UNICODE_STRING, 0x10);
NT_SIZE(_DISPATCHER_HEADER, 0x18);
NT_SIZE(_KWAIT_BLOCK, 0x30);
NT_SIZE(_KAPC_STATE, 0x30);
NT_SIZE(_KPROCESS, 0x438);
NT_SIZE(_EPROCESS, 0x850);
NT_SIZE(_KTHREAD, 0x430);
NT_SIZE(_ETHREAD, 0x500);
NT_SIZE(_POOL_HEADER, 0x10);
NT_SIZE(_OBJECT_HEADER, 0x38);
NT_SIZE(_OBJECT_HEADER_NAME_INFO, 0x20);
NT_SIZE(_KIDTENTRY64, 0x10);
NT_SIZE(_IO_STACK_LOCATION, 0x48);
NT_SIZE(_IRP, 0xd0);
NT_SIZE(_DEVICE_OBJECT, 0x150);
NT_SIZE(_DRIVER_OBJECT, 0x150);
NT_CHECK(_KPROCESS, DirectoryTableBase, 0x28);
NT_CHECK(_KPROCESS, ThreadListHead, 0x30);
NT_CHECK(_EPROCESS, UniqueProcessId, 0x440);
NT_CHECK(_EPROCESS, ActiveProcessLinks, 0x448);
NT_CHECK(_EPROCESS, Peb, 0x550);
NT_CHECK(_EPROCESS, ObjectTable, 0x570);
NT_CHECK(_EPROCESS, ImageFileName, 0x5a8);
NT_CHECK(_EPROCESS, ThreadListHead, 0x5e0);
NT_CHECK(_KTHREAD, InitialStack, 0x28);
NT_CHECK(_KTHREAD, StackBase, 0x38);
NT_CHECK(_KTHREAD, KernelStack, 0x58);
NT_CHECK(_KTHREAD, ApcState, 0x98);
NT_CHECK(_KTHREAD, Teb, 0xf0);
NT_CHECK(_KTHREAD, State, 0x118);
NT_CHECK(_KTHREAD, WaitBlock, 0x140);
NT_CHECK(_KTHREAD, Process, 0x220);
NT_CHECK(_KTHREAD, ThreadListEntry, 0x2f8);
NT_CHECK(_ETHREAD, Cid, 0x478);
NT_CHECK(_ETHREAD, IrpList, 0x4b0);
NT_CHECK(_ETHREAD, Win32StartAddress, 0x4d0);
NT_CHECK(_ETHREAD, ThreadListEntry, 0x4e8);
NT_CHECK(_KPCR, Self, 0x18);
NT_CHECK(_KPCR, CurrentPrcb, 0x20);
NT_CHECK(_KPCR, IdtBase, 0x38);
NT_CHECK(_KPCR, Irql, 0x50);
NT_CHECK(_KPCR, Prcb, 0x180);
NT_CHECK(_KPRCB, CurrentThread, 0x08);
NT_CHECK(_KPRCB, Number, 0x24);
NT_CHECK(_KPRCB, SimWorkTicks, 0x40);
NT_CHECK(_KPRCB, ProcessorState, 0x100);
NT_CHECK(_IRP, Tail.Overlay.Thread, 0x98);
NT_CHECK(_IRP, Tail.Overlay.CurrentStackLocation, 0xb8);
NT_CHECK(_DEVICE_OBJECT, DeviceQueue, 0xa0);
NT_CHECK(_DEVICE_OBJECT, DeviceObjectExtension, 0x138);
NT_CHECK(_DRIVER_OBJECT, DriverName, 0x38);
NT_CHECK(_DRIVER_OBJECT, MajorFunction, 0x70);
NT_CHECK(_OBJECT_HEADER, Body, 0x30);

#endif /* KDSIM_NTSTRUCTS_H */
