import csv
D=[]
def d(dep,dtype,country,region,el,v,unit,key,tag,note): D.append([dep,dtype,country,region,el,v,unit,key,tag,note])
rows=[r for r in open('/work/shared/reference/usgs_myb2022_ree_distribution_by_deposit.csv') if not r.startswith('#')]
names={"Bayan Obo":("Bayan Obo, Inner Mongolia","bastnaesite+monazite (carbonatite-related, Fe-REE-Nb)"),"Dechang":("Dechang, Sichuan","bastnaesite (carbonatite)"),"Maoniuping":("Maoniuping, Sichuan","bastnaesite (carbonatite)"),"Weishan":("Weishan, Shandong","bastnaesite (carbonatite)"),"Mountain Pass":("Mountain Pass, California","bastnaesite (carbonatite)"),"Revda":("Revda/Lovozero, Murmansk","loparite (alkaline intrusion)"),"Mount Weld Central Lanthanide":("Mount Weld CLD, Western Australia","monazite (weathered carbonatite)"),"Nangang":("Nangang, Guangdong","monazite (placer)"),"Manavalakurichi":("Manavalakurichi, Tamil Nadu","monazite (beach placer)"),"Xunwu":("Xunwu, Jiangxi","ion-adsorption clay, LREE type"),"Xinfeng":("Xinfeng, Jiangxi","ion-adsorption clay, medium-Y/Eu type"),"Longnan":("Longnan, Jiangxi","ion-adsorption clay, HREE/Y type"),"Southeast Guangdong Province (fn9)":("SE Guangdong","xenotime")}
reg={"China":"China","United States":"North America","Russia":"Europe","Australia":"Rest of World","India":"Rest of Asia"}
for r in csv.DictReader(rows):
    key=r['location'].split(',')[0]
    dep,dt=names[key]
    for el in ['La','Ce','Pr','Nd','Sm','Eu','Gd','Tb','Dy','Ho','Er','Tm','Yb','Lu','Y']:
        v=r[el].strip()
        if v=='NA': continue
        note=''
        if v.startswith('<'): note='below detection: upper bound'
        d(dep,dt,r['country'],reg[r['country']],el,v,"% of TREO","usgs-myb2022-t2","P",note + ("; " if note else "") + "USGS original source: "+{"China":"Zang et al. 1982 (Bayan Obo) / Li & Yang 2014 (others) / Nakamura 1988 (xenotime)","United States":"Molycorp 10-K 2014","Russia":"Hedrick et al. 1997","Australia":"Lynas 2012 resource release","India":"Patra 2014"}[r['country']])
    ndpr=float(r['Nd'])+float(r['Pr'])
    d(dep,dt,r['country'],reg[r['country']],"Nd+Pr",round(ndpr,2),"% of TREO","usgs-myb2022-t2","calc","(calc) sum")
# Mountain Pass 10-K
for el,v in [("Ce","50.2"),("La","32.3"),("Nd+Pr","15.7"),("Sm-Eu-Gd+ (SEG+)","1.8")]:
    d("Mountain Pass, California (estimated TREO distribution)","bastnaesite (carbonatite)","United States","North America",el,v,"% of TREO","mp-10k-2021","P","MP Materials FY2021 10-K; agrees with USGS (NdPr 15.9)")
d("Mountain Pass, California (resource grades)","bastnaesite (carbonatite)","United States","North America","Nd","12.0-12.2 (as Nd2O3)","% of TREO","mp-10k-2021","calc","(calc) Nd2O3/TREO from indicated 0.34/2.83 and inferred 0.62/5.10")
d("Mountain Pass, California (resource grades)","bastnaesite (carbonatite)","United States","North America","Pr","4.2-4.3 (as Pr6O11)","% of TREO","mp-10k-2021","calc","(calc) Pr6O11/TREO 0.12/2.83, 0.22/5.10")
# Biolantanidos (Chile ionic clay)
for el,v in [("Y","43.4"),("La","12.7"),("Nd","12"),("Pr","3"),("Dy","6.2"),("Tb","0.9"),("Lu","0.6"),("other","21.2")]:
    d("Penco (Biolantanidos), Chile","ion-adsorption clay (HREE/Y-rich)","Chile","Rest of World",el,v,"% of product (REO)","asianmetal-2021","S","company presentation; 'project's proportion' - product mix, may differ from in-situ distribution")
# Lynas product mix (not ore)
d("Lynas (Mt Weld ore, LAMP output) FY23","monazite (weathered carbonatite)","Australia","Rest of World","Nd+Pr","36.6","% of REO products","lynas-ar-2023","calc","(calc) 6,142 t NdPr / 16,780 t REO: PRODUCT mix after separation/sales, NOT the ore distribution (ore 23.3%: USGS T2)")
# gaps recorded explicitly
for dep,dt,cty,rg,note in [("Kachin/Pangwa-Chipwi ionic clays, Myanmar","ion-adsorption clay (medium-heavy)","Burma","Rest of Asia","NOT FOUND: no public element distribution read. Project Blue: Kachin deposits have geology similar to Yunnan IAC; SMM treats Myanmar feed as medium-heavy. Proxy suggestion: Xinfeng (medium-Y) central, Xunwu-Longnan range"),
 ("Serra Verde Pela Ema, Brazil","ion-adsorption clay","Brazil","Rest of World","NOT FOUND: distribution not published in sources read; USGS MCS 2026: 'mixed concentrates from ionic clays with elevated Tb and Dy'"),
 ("Eneabba (Iluka), Western Australia","monazite (+xenotime) heavy-mineral-sand concentrate","Australia","Rest of World","NOT FOUND: no distribution read; proxy: Manavalakurichi/Nangang monazite rows"),
 ("Mount Weld (Lynas, current mined blend incl. Duncan)","monazite (weathered carbonatite)","Australia","Rest of World","NOT FOUND beyond the 2012 CLD distribution in USGS T2; Duncan deposit reported as HREE-enriched (memim.com, no numbers)")]:
    d(dep,dt,cty,rg,"all","","% of TREO","","gap",note)
