-- sysplus: in the firmware this is the same table as sys (luatos-api.md §2).
return require("sys")
