/* Loads lookup.bpf.o, fills the three tables with the same N keys (default 2^20), then times
 * each program over 65,536 packets of random present keys, one BPF_PROG_TEST_RUN per packet
 * (the kernel's own timing summed), 7 rounds alternating the programs; prints the medians.
 * Usage: ./compare [N]. See README.md. */
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#define N (1<<20)
#define LOG2CAP 21
struct slot { unsigned key, state; unsigned char head[8], mac[8], tm[16], pad[24]; };
static unsigned keys[N];
static double run(int fd, unsigned char (*pk)[64], int np) { double s=0;
  for (int i=0;i<np;i++){ LIBBPF_OPTS(bpf_test_run_opts,t,.data_in=pk[i],.data_size_in=64,.repeat=1);
    unsigned char o[64]; t.data_out=o; t.data_size_out=64; if(bpf_prog_test_run_opts(fd,&t)){perror("run");exit(1);} if(t.retval!=7){fprintf(stderr,"miss\n");exit(1);} s+=t.duration;} return s/np; }
int cmpd(const void*a,const void*b){double x=*(double*)a,y=*(double*)b;return x<y?-1:x>y;}
int main(int argc,char**argv){ libbpf_set_print(NULL); int n = argc>1?atoi(argv[1]):N; if(n<1||n>N) n=N;
  struct bpf_object*o=bpf_object__open_file("lookup.bpf.o",0); if(bpf_object__load(o)){fprintf(stderr,"load\n");return 1;}
  srand(1); for(int i=0;i<N;i++) keys[i]=(unsigned)rand()*2654435761u ^ i;
  int h8=bpf_map__fd(bpf_object__find_map_by_name(o,"h8")), h32=bpf_map__fd(bpf_object__find_map_by_name(o,"h32")), oa=bpf_map__fd(bpf_object__find_map_by_name(o,"oa"));
  struct slot *S = mmap(0,(size_t)sizeof(struct slot)<<LOG2CAP,PROT_READ|PROT_WRITE,MAP_SHARED,oa,0); if(S==MAP_FAILED){perror("mmap");return 1;}
  int maxp=0;
  for(int i=0;i<n;i++){ unsigned char v8[8]={1,2,3,4,5,6}; unsigned char v32[32]={0}; v32[8]=1; unsigned long long k64=keys[i];
    if(bpf_map_update_elem(h8,&keys[i],v8,BPF_NOEXIST)) { continue; }
    bpf_map_update_elem(h32,&k64,v32,BPF_NOEXIST);
    unsigned h=(keys[i]*0x9E3779B1u)>>(32-LOG2CAP); int p=0; while(S[(h+p)&((1u<<LOG2CAP)-1)].state) p++; if(p>maxp)maxp=p;
    struct slot*s=&S[(h+p)&((1u<<LOG2CAP)-1)]; s->key=keys[i]; memcpy(s->mac,v8,6); __sync_synchronize(); s->state=1; }
  fprintf(stderr,"max probe %d\n",maxp);
  static unsigned char pk[65536][64]; for(int i=0;i<65536;i++){ memset(pk[i],0,64); unsigned k=keys[(unsigned)rand()%n]; memcpy(pk[i]+30,&k,4);} 
  int fds[3]={bpf_program__fd(bpf_object__find_program_by_name(o,"p_h8")),bpf_program__fd(bpf_object__find_program_by_name(o,"p_h32")),bpf_program__fd(bpf_object__find_program_by_name(o,"p_oa"))};
  double r[3][7]; for(int round=0;round<7;round++) for(int p=0;p<3;p++) r[p][round]=run(fds[p],pk,65536);
  const char*nm[3]={"htab value 8 (elem 64)","htab value 32, key 8 (elem 88)","open addressing, 64-byte slots"};
  for(int p=0;p<3;p++){qsort(r[p],7,sizeof(double),cmpd); printf("%8d entries: %-34s %.1f ns\n",n,nm[p],r[p][3]);} return 0;}
